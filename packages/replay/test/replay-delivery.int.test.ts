import type { ReceivedMessage, Subscription } from '@orchestron/broker';
import { KafkaConsumer } from '@orchestron/broker-kafka';
import { RabbitMqConsumer } from '@orchestron/broker-rabbitmq';
import {
  amqpUrl,
  createTestDatabase,
  eventually,
  kafkaBrokers,
  seedPublishedEvents,
  startApp,
  type AppProcess,
  type SeededEvent,
  type TestDatabase,
} from '@orchestron/testing';
import { randomBytes } from 'node:crypto';
import { createReplayStore, parseReplayRequest, ReplayRunner, requestReplay, type ReplayActor } from '../src';

// Replays as a consumer sees them: stored (already published) events, a replay runner, the
// built relay as its own process, and an independent consumer on the real broker.

let database: TestDatabase;
let runner: ReplayRunner;
const running: AppProcess[] = [];
const closers: Array<() => Promise<void>> = [];
const operator: ReplayActor = { name: 'ops', scope: { sources: ['*'], types: ['*'] } };
const since = new Date(Date.now() - 3_600_000).toISOString();
const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  database = await createTestDatabase('replay_delivery');
  runner = new ReplayRunner({
    store: createReplayStore(database.db),
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    batchSize: 100,
    concurrency: 1,
    pollInterval: 50,
    lease: 30_000,
    maxPending: 1_000,
  });
  runner.start();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  await Promise.all(closers.splice(0).map((close) => close()));
  await database.db.raw('truncate events, replays cascade');
});

afterAll(async () => {
  await runner.stop(10_000);
  await database.drop();
});

async function replay(body: Record<string, unknown>): Promise<string> {
  const request = parseReplayRequest(body, { maxRateLimit: 10_000 });
  const result = await requestReplay(database.db, request, operator, { defaultRateLimit: 1_000 });
  if (result.dryRun) throw new Error('expected a replay');
  runner.wake();
  return result.replay.id;
}

function track(subscription: Subscription, consumer: { close(): Promise<void> }): void {
  closers.push(async () => {
    await subscription.stop();
    await consumer.close();
  });
}

/** Per replay id (the marker), the event ids received under it, each as often as it came. */
function byReplay(messages: readonly ReceivedMessage[], markerHeader: string): Map<string, string[]> {
  const copies = new Map<string, string[]>();
  for (const m of messages) {
    const marker = m.headers[markerHeader] ?? 'none';
    copies.set(marker, [...(copies.get(marker) ?? []), m.id ?? '']);
  }
  return copies;
}

const sorted = (ids: readonly string[]): string[] => [...ids].sort();

describe('a replay to the original routes on RabbitMQ', () => {
  it('reaches a consumer once per replay, with the original event ids and the replay marker', async () => {
    const exchange = uniqueName('orchestron_replay');
    const events = await seedPublishedEvents(
      database.db,
      Array.from({ length: 60 }, (_, i) => ({ source: i % 3 === 0 ? 'crm' : 'shop', type: `order.n${i % 2}` })),
      { broker: 'rabbitmq', destination: exchange },
    );
    const consumer = new RabbitMqConsumer({ url: amqpUrl(), prefetch: 500 });
    const messages: ReceivedMessage[] = [];
    track(await consumer.subscribe({ destination: exchange, bindingKey: '#' }, (m) => void messages.push(m)), consumer);
    running.push(
      await startApp('relay', {
        DATABASE_URL: database.url,
        AMQP_URL: amqpUrl(),
        ORCHESTRON_BROKER_TYPE: 'rabbitmq',
        ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
        ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '1s',
      }),
    );

    const filter = { sources: ['shop'], types: ['order.*'], since };
    const first = await replay({ filter, rate_limit: 500 });
    const second = await replay({ filter, rate_limit: 500 });
    const expected = sorted(events.filter((e: SeededEvent) => e.source === 'shop').map((e) => e.id));
    await eventually(() => messages.length >= 2 * expected.length, {
      timeoutMs: 60_000,
      message: () => `received ${messages.length} of ${2 * expected.length} replayed messages`,
    });
    // Stragglers (duplicates, if any) would show up within a moment.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const copies = byReplay(messages, 'cloudEvents:orchestronreplay');
    expect(new Set(copies.keys())).toEqual(new Set([first, second]));
    expect(sorted(copies.get(first) ?? [])).toEqual(expected);
    expect(sorted(copies.get(second) ?? [])).toEqual(expected);
    const sample = messages.find((m) => m.id === expected[0]);
    expect(sample).toMatchObject({ source: 'shop', routingKey: expect.stringMatching(/^order\.n[01]$/) });
    expect(JSON.parse(sample?.payload.toString() ?? '')).toEqual({ n: expected[0] });
  });
});

describe('a replay to a named Kafka topic', () => {
  it("gives a new consumer last hour's events, each once, with their original ids and the marker", async () => {
    const history = uniqueName('orchestron_history');
    const backfill = uniqueName('orchestron_backfill');
    const events = await seedPublishedEvents(
      database.db,
      Array.from({ length: 40 }, () => ({ source: 'billing', type: 'payment.succeeded' })),
      { broker: 'kafka', destination: history },
    );
    running.push(
      await startApp('relay', {
        DATABASE_URL: database.url,
        ORCHESTRON_BROKER_TYPE: 'kafka',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        ORCHESTRON_ROUTING_DEFAULT_TOPIC: history,
        ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '1s',
      }),
    );
    const id = await replay({ filter: { types: ['payment.*'], since }, target: { broker: 'kafka', topic: backfill } });
    await eventually(
      async () => (await database.db('outbox').where({ replay_id: id, status: 'published' })).length === 40,
      { timeoutMs: 60_000, message: () => 'the relay did not publish the 40 replayed rows' },
    );

    const consumer = new KafkaConsumer({ brokers: kafkaBrokers(), clientId: 'orchestron-replay-test' });
    const messages: ReceivedMessage[] = [];
    track(
      await consumer.subscribe(
        { destination: backfill, group: uniqueName('replay'), fromBeginning: true },
        (m) => void messages.push(m),
      ),
      consumer,
    );
    await eventually(() => messages.length >= 40, {
      timeoutMs: 60_000,
      message: () => `received ${messages.length} of 40 replayed messages`,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const copies = byReplay(messages, 'ce_orchestronreplay');
    expect([...copies.keys()]).toEqual([id]);
    expect(sorted(copies.get(id) ?? [])).toEqual(sorted(events.map((e) => e.id)));
    expect(messages[0]).toMatchObject({ type: 'payment.succeeded', source: 'billing' });
  });
});
