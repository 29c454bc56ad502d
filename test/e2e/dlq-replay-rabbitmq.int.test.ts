import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  amqpUrl,
  createTestDatabase,
  eventually,
  REPO_ROOT,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { consumeRabbitMq, postEvents, signup, uniqueName, type Received } from './harness';

// A dead letter's way back: a real relay dead-letters an event RabbitMQ cannot route (nothing
// is bound to the exchange yet), an operator binds a queue and runs `orchestron dlq replay`,
// and the relay, woken by the replay's NOTIFY, delivers the event to the queue.

let database: TestDatabase;
const running: AppProcess[] = [];
let received: Received | undefined;

beforeAll(async () => {
  database = await createTestDatabase('e2e_dlq_replay');
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()));
  await received?.close();
  await database.drop();
});

async function metric(relay: AppProcess, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${relay.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('orchestron dlq replay, end to end on RabbitMQ', () => {
  it('delivers an event that was dead-lettered as unroutable once a queue is bound and it is replayed', async () => {
    const exchange = uniqueName('orchestron_e2e_dlq');
    const common = { DATABASE_URL: database.url, ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange };
    const ingest = await startApp('ingest', {
      ...common,
      ORCHESTRON_API_RATE_LIMIT: '0',
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
    });
    running.push(ingest);
    const relay = await startApp('relay', {
      ...common,
      AMQP_URL: amqpUrl(),
      ORCHESTRON_BROKER_TYPE: 'rabbitmq',
      ORCHESTRON_ROUTING_MAX_RETRIES: '0',
      // Polling too slow to matter within this test: only a NOTIFY gets the replay out quickly.
      ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '5m',
      ORCHESTRON_OUTBOX_STATS_INTERVAL: '1s',
    });
    running.push(relay);

    const response = await postEvents(ingest.url, signup(1, { source: 'crm' }));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };

    await eventually(async () => (await database.db('dead_letter_queue').where({ event_id: id })).length === 1, {
      timeoutMs: 15_000,
      message: () => `event was not dead-lettered:\n${relay.output()}`,
    });
    const dead = await database.db('dead_letter_queue').where({ event_id: id }).first();
    expect(dead).toMatchObject({ status: 'dead', destination: exchange, broker: 'rabbitmq' });
    expect(dead.error).toMatch(/unroutable|NO_ROUTE/i);
    await eventually(async () => (await metric(relay, 'orchestron_dead_letter_queue_size')) === 1, {
      timeoutMs: 10_000,
      message: () => 'the dead-letter gauge did not show the dead letter',
    });

    received = await consumeRabbitMq(exchange);
    const replayedAt = Date.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(REPO_ROOT, 'apps/cli/dist/main.js'), 'dlq', 'replay', '--type', 'user.*', '--json'],
      { env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url }, timeout: 20_000 },
    );
    const replay = JSON.parse(stdout) as { replayed: number; items: Array<{ id: number; outboxId: number }> };
    expect(replay).toMatchObject({ replayed: 1, items: [{ id: dead.id }] });

    await received.waitForDistinct(1, 15_000);
    expect(Date.now() - replayedAt).toBeLessThan(15_000);
    const [message] = received.messages;
    expect(message).toMatchObject({ id, type: 'user.signed_up', source: 'crm', routingKey: 'user.signed_up' });
    expect(JSON.parse(message?.payload.toString() ?? '')).toEqual(signup(1).data);

    await eventually(
      async () =>
        (await database.db('outbox').where({ id: replay.items[0]?.outboxId }).first())?.status === 'published',
      { timeoutMs: 10_000, message: () => 'the replayed outbox row was not marked published' },
    );
    expect(await database.db('dead_letter_queue').where({ id: dead.id }).first()).toMatchObject({
      status: 'replayed',
      replayed_outbox_id: replay.items[0]?.outboxId,
    });
    await eventually(async () => (await metric(relay, 'orchestron_dead_letter_queue_size')) === 0, {
      timeoutMs: 10_000,
      message: () => 'the dead-letter gauge did not drop to 0 after the replay',
    });
  });
});
