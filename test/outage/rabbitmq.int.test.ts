import type { ReceivedMessage, Subscription } from '@orchestron/broker';
import { RabbitMqConsumer } from '@orchestron/broker-rabbitmq';
import {
  createTestDatabase,
  DedicatedRabbitMq,
  eventually,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import {
  attemptsByStatus,
  backoffRuns,
  deadLetterCount,
  logEntries,
  loopBackoffs,
  metricValue,
  outboxSummary,
  readiness,
  SteadyLoad,
} from './outage-harness';

// A RabbitMQ node of this file's own is stopped for more than 30 s while events keep coming
// in: ingest, relay and the node are real processes. The relay declares the topology (a
// durable queue bound to the exchange), so the queue collects every event across the outage.

const OUTAGE_MS = 30_000;
const EXCHANGE = 'events';
const QUEUE = 'events.all';

let database: TestDatabase;
let broker: DedicatedRabbitMq;
let ingest: AppProcess;
let relay: AppProcess;
let load: SteadyLoad | undefined;
let consumer: RabbitMqConsumer | undefined;
let subscription: Subscription | undefined;

beforeAll(async () => {
  [database, broker] = await Promise.all([createTestDatabase('outage_rabbitmq'), DedicatedRabbitMq.start()]);
  ingest = await startApp('ingest', {
    DATABASE_URL: database.url,
    ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: EXCHANGE,
    ORCHESTRON_API_RATE_LIMIT: '0',
    ORCHESTRON_API_REQUIRE_API_KEY: 'false',
  });
  relay = await startApp('relay', {
    DATABASE_URL: database.url,
    AMQP_URL: broker.url,
    ORCHESTRON_BROKER_TYPE: 'rabbitmq',
    ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: EXCHANGE,
    // Events of this type would go to an exchange nothing is bound to: reported at start.
    ORCHESTRON_ROUTING_RULES: JSON.stringify([
      { match: { type: 'audit.*' }, destinations: [{ broker: 'rabbitmq', exchange: 'audit' }] },
    ]),
    ORCHESTRON_BROKER_RABBITMQ_TOPOLOGY_EXCHANGES: JSON.stringify([{ name: EXCHANGE, type: 'topic' }]),
    ORCHESTRON_BROKER_RABBITMQ_TOPOLOGY_QUEUES: JSON.stringify([{ name: QUEUE, type: 'classic', durable: true }]),
    ORCHESTRON_BROKER_RABBITMQ_TOPOLOGY_BINDINGS: JSON.stringify([
      { queue: QUEUE, exchange: EXCHANGE, routing_key: '#' },
    ]),
    ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '1s',
    ORCHESTRON_OUTBOX_BROKER_BACKOFF_MAX: '4s',
  });
}, 120_000);

afterAll(async () => {
  await load?.stop();
  await subscription?.stop();
  await consumer?.close();
  await Promise.all([ingest?.kill(), relay?.kill()]);
  await broker?.destroy();
  await database?.drop();
}, 120_000);

describe('a RabbitMQ outage under load', () => {
  it('starts with the topology declared and reports the routing destination nothing is bound to', async () => {
    await eventually(async () => (await readiness(relay)).status === 200, {
      timeoutMs: 30_000,
      message: () => `relay never became ready:\n${relay.output()}`,
    });

    expect(logEntries(relay, 'RabbitMQ topology declared')).toEqual([
      expect.objectContaining({ exchanges: 1, queues: 1, bindings: 1, refused: 0 }),
    ]);
    expect(logEntries(relay, 'RabbitMQ routing destination has no binding')).toEqual([
      expect.objectContaining({ level: 'warn', exchange: 'audit' }),
    ]);
    expect(await metricValue(relay, 'orchestron_destination_unbound', { destination: 'audit' })).toBe(1);
    expect(await metricValue(relay, 'orchestron_destination_unbound', { destination: EXCHANGE })).toBe(0);
  });

  it('keeps ingest answering 202 for 30 s without the broker, pauses the relay without burning attempts, and delivers the whole backlog once it is back', async () => {
    load = SteadyLoad.start(ingest.url);
    await eventually(async () => (await outboxSummary(database.db)).published >= 50, {
      timeoutMs: 30_000,
      message: () => `events were not flowing before the outage:\n${relay.output()}`,
    });

    // The broker goes away.
    const stoppedAt = Date.now();
    await broker.stop();
    const acceptedAtStop = load.accepted.length;
    await eventually(async () => (await readiness(relay)).status === 503, {
      timeoutMs: 20_000,
      message: () => 'relay /ready did not report the outage',
    });
    // ...and stays away for 30 s under load, the relay not ready all along.
    const duringOutage: Array<{ status: number; brokerOk: boolean | undefined }> = [];
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      const { status, checks } = await readiness(relay);
      duringOutage.push({ status, brokerOk: checks.rabbitmq?.ok });
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // sampling pace
    }
    expect(duringOutage.length).toBeGreaterThan(5);
    expect(duringOutage.filter((r) => r.status !== 503 || r.brokerOk !== false)).toEqual([]);
    expect(load.accepted.length - acceptedAtStop).toBeGreaterThan(100);
    const backlog = await outboxSummary(database.db);
    expect(backlog.total - backlog.published).toBeGreaterThan(100);
    // Connection failures count no attempt: rows waiting have none, published ones the one that worked.
    expect(await attemptsByStatus(database.db)).toEqual(['pending 0 attempts', 'published 1 attempt']);

    // The broker comes back.
    await broker.start();
    await eventually(async () => (await readiness(relay)).status === 200, {
      timeoutMs: 60_000,
      message: () => `relay did not become ready again:\n${relay.output().slice(-3_000)}`,
    });
    const acceptedAtRecovery = load.accepted.length;
    await eventually(() => load!.accepted.length >= acceptedAtRecovery + 50, {
      timeoutMs: 30_000,
      message: () => 'ingest stopped accepting after the recovery',
    });
    await load.stop();

    expect(load.failures).toEqual([]);
    await eventually(
      async () => {
        const { total, published } = await outboxSummary(database.db);
        return total === load!.accepted.length && published === total;
      },
      { timeoutMs: 120_000, message: () => 'the backlog was not published after the recovery' },
    );
    expect(await deadLetterCount(database.db)).toBe(0);
    expect(await attemptsByStatus(database.db)).toEqual(['published 1 attempt']);

    // Meanwhile the relay paused after each failed batch, longer each time, up to the cap.
    const backoffs = loopBackoffs(relay);
    const runs = backoffRuns(backoffs, 500, 4_000);
    expect(runs.violations).toEqual([]);
    expect(runs.longestRun).toBeGreaterThanOrEqual(4);

    // Every accepted event is in the durable queue the relay declared, across the restart.
    consumer = new RabbitMqConsumer({ url: broker.url, prefetch: 500 });
    const received = new Map<string, ReceivedMessage>();
    subscription = await consumer.subscribe({ destination: EXCHANGE, group: QUEUE, bindingKey: '#' }, (m) => {
      received.set(m.id ?? '', m);
    });
    await eventually(() => load!.accepted.every((id) => received.has(id)), {
      timeoutMs: 60_000,
      message: () => `received ${received.size} of ${load!.accepted.length} events`,
    });
  }, 180_000);
});
