import type { ReceivedMessage, Subscription } from '@orchestron/broker';
import { KafkaConsumer } from '@orchestron/broker-kafka';
import {
  createTestDatabase,
  DedicatedKafka,
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
  outboxSummary,
  readiness,
  SteadyLoad,
} from './outage-harness';

// A Kafka broker of this file's own is stopped for more than 30 s while events keep coming
// in: ingest, relay and the broker are real processes. The relay creates the topic from
// broker.kafka.topics at start.

// kafkajs spends about 10 s on each failed publish (its own retries), so the outage is
// longer than 30 s for the relay's backoff to show over several failed batches.
const OUTAGE_MS = 40_000;
const TOPIC = 'events';

let database: TestDatabase;
let broker: DedicatedKafka;
let ingest: AppProcess;
let relay: AppProcess;
let load: SteadyLoad | undefined;
let consumer: KafkaConsumer | undefined;
let subscription: Subscription | undefined;

beforeAll(async () => {
  [database, broker] = await Promise.all([createTestDatabase('outage_kafka'), DedicatedKafka.start()]);
  const common = {
    DATABASE_URL: database.url,
    ORCHESTRON_BROKER_TYPE: 'kafka',
    KAFKA_BROKERS: broker.brokers.join(','),
    ORCHESTRON_ROUTING_DEFAULT_TOPIC: TOPIC,
  };
  ingest = await startApp('ingest', {
    ...common,
    ORCHESTRON_API_RATE_LIMIT: '0',
    ORCHESTRON_API_REQUIRE_API_KEY: 'false',
  });
  relay = await startApp('relay', {
    ...common,
    ORCHESTRON_BROKER_KAFKA_TOPICS: JSON.stringify([
      { name: TOPIC, partitions: 3, config: { 'retention.ms': '3600000' } },
    ]),
    ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '1s',
    ORCHESTRON_OUTBOX_BROKER_BACKOFF_MAX: '4s',
    // One claim loop: the Kafka publisher runs calls one at a time, and a publish to a stopped
    // broker takes about 9 s to fail, so with the default two loops each loop saw only one or
    // two failures in the outage, too few to show its backoff growing.
    ORCHESTRON_OUTBOX_CONCURRENCY: '1',
  });
}, 180_000);

afterAll(async () => {
  await load?.stop();
  await subscription?.stop();
  await consumer?.close();
  await Promise.all([ingest?.kill(), relay?.kill()]);
  await broker?.destroy();
  await database?.drop();
}, 120_000);

describe('a Kafka outage under load', () => {
  it('starts with the declared topic created with its partitions and settings', async () => {
    await eventually(async () => (await readiness(relay)).status === 200, {
      timeoutMs: 30_000,
      message: () => `relay never became ready:\n${relay.output()}`,
    });

    expect(logEntries(relay, 'created Kafka topic')).toEqual([
      expect.objectContaining({ topic: TOPIC, partitions: 3, config: { 'retention.ms': '3600000' } }),
    ]);
  });

  it('keeps ingest answering 202 for 40 s without the broker, pauses the relay without burning attempts, and delivers the whole backlog once it is back', async () => {
    load = SteadyLoad.start(ingest.url);
    await eventually(async () => (await outboxSummary(database.db)).published >= 50, {
      timeoutMs: 30_000,
      message: () => `events were not flowing before the outage:\n${relay.output()}`,
    });

    // The broker goes away.
    const stoppedAt = Date.now();
    await broker.stop();
    const acceptedAtStop = load.accepted.length;
    // kafkajs retries a while before a publish fails and the publisher reports unhealthy.
    await eventually(async () => (await readiness(relay)).status === 503, {
      timeoutMs: 30_000,
      message: () => 'relay /ready did not report the outage',
    });
    // ...and stays away for 40 s under load, the relay not ready all along.
    const duringOutage: Array<{ status: number; brokerOk: boolean | undefined }> = [];
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      const { status, checks } = await readiness(relay);
      duringOutage.push({ status, brokerOk: checks.kafka?.ok });
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
    expect(runs.longestRun).toBeGreaterThanOrEqual(2);

    // Every accepted event is on the topic, across the restart.
    consumer = new KafkaConsumer({ brokers: broker.brokers, clientId: 'outage-test' });
    const received = new Map<string, ReceivedMessage>();
    subscription = await consumer.subscribe({ destination: TOPIC, fromBeginning: true }, (m) => {
      received.set(m.id ?? '', m);
    });
    await eventually(() => load!.accepted.every((id) => received.has(id)), {
      timeoutMs: 60_000,
      message: () => `received ${received.size} of ${load!.accepted.length} events`,
    });
  }, 180_000);
});
