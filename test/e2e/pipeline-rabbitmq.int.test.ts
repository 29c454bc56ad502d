import {
  amqpUrl,
  createTestDatabase,
  eventually,
  startApp,
  TcpProxy,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { consumeRabbitMq, postEvents, postMany, signup, uniqueName, type Received } from './harness';

// The whole pipeline as deployed: ingest and relay as separate processes (built dist/),
// the real Postgres and RabbitMQ, and a consumer on a queue bound to the exchange.

let database: TestDatabase;
let ingest: AppProcess;
const running: AppProcess[] = [];
const consumers: Received[] = [];
let exchange: string;

function relayEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    AMQP_URL: amqpUrl(),
    ORCHESTRON_BROKER_TYPE: 'rabbitmq',
    ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
    ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '1s',
    ...extra,
  };
}

async function startRelay(extra: Record<string, string> = {}): Promise<AppProcess> {
  const relay = await startApp('relay', relayEnv(extra));
  running.push(relay);
  return relay;
}

async function consume(): Promise<Received> {
  const received = await consumeRabbitMq(exchange);
  consumers.push(received);
  return received;
}

async function outboxByStatus(): Promise<Record<string, number>> {
  const rows = (await database.db('outbox').select('status').count({ n: '*' }).groupBy('status')) as Array<{
    status: string;
    n: number;
  }>;
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

beforeAll(async () => {
  database = await createTestDatabase('e2e_rabbitmq');
});

beforeEach(async () => {
  exchange = uniqueName('orchestron_e2e');
  await database.db.raw('truncate events, dead_letter_queue cascade');
  ingest = await startApp('ingest', {
    DATABASE_URL: database.url,
    ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
    ORCHESTRON_API_RATE_LIMIT: '0',
    ORCHESTRON_API_REQUIRE_API_KEY: 'false',
  });
  running.push(ingest);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  await Promise.all(consumers.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await database.drop();
});

describe('ingest -> outbox -> relay -> RabbitMQ', () => {
  it('delivers a POSTed event to a queue bound to the exchange with payload, id and type intact', async () => {
    const received = await consume();
    await startRelay();
    const response = await postEvents(ingest.url, signup(1, { source: 'crm', id: 'delivery-1' }));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };

    await received.waitForDistinct(1, 15_000);
    const [message] = received.messages;
    expect(message?.id).toBe(id);
    expect(message?.type).toBe('user.signed_up');
    expect(message?.source).toBe('crm');
    expect(message?.routingKey).toBe('user.signed_up');
    expect(JSON.parse(message?.payload.toString() ?? '')).toEqual(signup(1).data);
    expect(await outboxByStatus()).toEqual({ published: 1 });
  });

  it('delivers a batch of 1,000 events complete, none twice', async () => {
    const received = await consume();
    await startRelay({ ORCHESTRON_OUTBOX_BATCH_SIZE: '100' });
    const ids = await postMany(ingest.url, 1_000, 250);
    await received.waitForDistinct(1_000, 60_000);
    // Give stragglers (duplicates, if any) a moment to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received.messages).toHaveLength(1_000);
    expect(received.distinctIds()).toEqual(new Set(ids));
    expect(await outboxByStatus()).toEqual({ published: 1_000 });
  });

  it('loses nothing when a relay is killed with SIGKILL mid-batch: another relay publishes the rest', async () => {
    const total = 4_000;
    // The relay's default of two claim loops: two batches can be in flight at the kill.
    const batchSize = 50;
    const loops = 2;
    const relaySettings = {
      ORCHESTRON_OUTBOX_BATCH_SIZE: String(batchSize),
      ORCHESTRON_OUTBOX_CONCURRENCY: String(loops),
    };
    const ids = await postMany(ingest.url, total, 500);
    const received = await consume();
    const first = await startRelay(relaySettings);
    await eventually(() => received.messages.length >= 300, {
      timeoutMs: 30_000,
      message: () => `first relay published ${received.messages.length}`,
    });
    await first.kill();
    const deliveredBeforeKill = received.distinctIds().size;
    expect(deliveredBeforeKill).toBeLessThan(total);

    await startRelay(relaySettings);
    await received.waitForDistinct(total, 90_000);
    expect(received.distinctIds()).toEqual(new Set(ids));
    // At-least-once: a copy beyond the first can only come from the batches that were in flight.
    expect(received.messages.length - total).toBeLessThanOrEqual(batchSize * loops);
    await eventually(async () => (await outboxByStatus()).published === total, {
      timeoutMs: 10_000,
      message: () => 'outbox rows not all marked published',
    });
  });

  it('keeps accepting while the broker is down, and drains the backlog without burning attempts when it is back', async () => {
    const [host, port] = new URL(amqpUrl()).host.split(':');
    const proxy = await TcpProxy.start(host ?? '127.0.0.1', Number(port || 5672));
    try {
      const received = await consume();
      const url = new URL(amqpUrl());
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      const relay = await startRelay({ AMQP_URL: url.toString(), ORCHESTRON_OUTBOX_BROKER_BACKOFF_MAX: '2s' });
      await eventually(async () => (await fetch(`${relay.url}/ready`)).status === 200, {
        timeoutMs: 10_000,
        message: () => 'relay never became ready',
      });

      await proxy.cut();
      const ids = await postMany(ingest.url, 200, 20);
      expect(ids).toHaveLength(200);
      await eventually(async () => (await fetch(`${relay.url}/ready`)).status === 503, {
        timeoutMs: 15_000,
        message: () => 'relay /ready did not report the broker outage',
      });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(received.messages).toHaveLength(0);
      const pending = await database.db('outbox').where({ status: 'pending' });
      expect(pending).toHaveLength(200);
      expect(pending.every((row: { attempts: number }) => row.attempts === 0)).toBe(true);

      await proxy.restore();
      await received.waitForDistinct(200, 60_000);
      expect(received.distinctIds()).toEqual(new Set(ids));
      expect(await database.db('dead_letter_queue').count({ n: '*' })).toEqual([{ n: 0 }]);
      await eventually(async () => (await fetch(`${relay.url}/ready`)).status === 200, {
        timeoutMs: 10_000,
        message: () => 'relay did not become ready again',
      });
    } finally {
      await proxy.close();
    }
  });

  it('shuts down on SIGTERM after settling the batch in flight', async () => {
    // Bound first: with nothing bound, a mandatory publish is returned as unroutable.
    await consume();
    const relay = await startRelay();
    await postMany(ingest.url, 10, 10);
    await eventually(async () => (await outboxByStatus()).published === 10, {
      timeoutMs: 15_000,
      message: () => 'events not published',
    });
    expect(await relay.stop()).toBe(0);
    expect(relay.output()).toContain('"message":"stopped"');
  });
});
