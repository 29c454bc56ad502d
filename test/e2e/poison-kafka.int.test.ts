import type { ReceivedMessage, Subscription } from '@orchestron/broker';
import { KafkaConsumer } from '@orchestron/broker-kafka';
import {
  createTestDatabase,
  eventually,
  kafkaBrokers,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { attemptsOf, outboxRowOf, recordAttempts, retryScheduleProblems } from './attempt-history';
import { postEvents, postMany, signup, uniqueName } from './harness';

// A poison event on Kafka: one message larger than the topic's max.message.bytes (the topic
// is created by the relay from broker.kafka.topics) among normal ones. The broker refuses it
// each time; the relay retries it with growing, jittered delays and dead-letters it with the
// broker's error, while every other event keeps flowing.

const MAX_RETRIES = 7;
const RETRY_BASE_DELAY_MS = 100;
const MAX_MESSAGE_BYTES = 16_384;

let database: TestDatabase;
const running: AppProcess[] = [];
let consumer: KafkaConsumer | undefined;
let subscription: Subscription | undefined;

beforeAll(async () => {
  database = await createTestDatabase('e2e_poison_kafka');
  await recordAttempts(database.db);
});

afterAll(async () => {
  await subscription?.stop();
  await consumer?.close();
  await Promise.all(running.map((p) => p.kill()));
  await database.drop();
});

describe('a message Kafka refuses', () => {
  it('is retried with growing delays and dead-lettered with the broker error, while the other events flow', async () => {
    const topic = uniqueName('orchestron_poison');
    const common = {
      DATABASE_URL: database.url,
      ORCHESTRON_BROKER_TYPE: 'kafka',
      KAFKA_BROKERS: kafkaBrokers().join(','),
      ORCHESTRON_ROUTING_DEFAULT_TOPIC: topic,
    };
    const ingest = await startApp('ingest', {
      ...common,
      ORCHESTRON_API_RATE_LIMIT: '0',
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
    });
    running.push(ingest);
    const relay = await startApp('relay', {
      ...common,
      ORCHESTRON_BROKER_KAFKA_TOPICS: JSON.stringify([
        { name: topic, partitions: 1, config: { 'max.message.bytes': String(MAX_MESSAGE_BYTES) } },
      ]),
      ORCHESTRON_ROUTING_MAX_RETRIES: String(MAX_RETRIES),
      ORCHESTRON_OUTBOX_RETRY_BASE_DELAY: `${RETRY_BASE_DELAY_MS}ms`,
      ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '200ms',
    });
    running.push(relay);
    await eventually(async () => (await fetch(`${relay.url}/ready`)).status === 200, {
      timeoutMs: 30_000,
      message: () => `relay never became ready:\n${relay.output()}`,
    });
    // The relay created the topic at start: a consumer can join it before anything is sent.
    consumer = new KafkaConsumer({ brokers: kafkaBrokers(), clientId: 'orchestron-e2e' });
    const received = new Map<string, ReceivedMessage>();
    subscription = await consumer.subscribe(
      { destination: topic, group: uniqueName('e2e'), fromBeginning: true },
      (m) => {
        received.set(m.id ?? '', m);
      },
    );

    // One oversized event among normal ones, in one batch.
    const oversized = signup(10, { data: { ...signup(10).data, referrer: 'x'.repeat(MAX_MESSAGE_BYTES * 2) } });
    const response = await postEvents(ingest.url, [
      ...Array.from({ length: 10 }, (_, i) => signup(i)),
      oversized,
      ...Array.from({ length: 10 }, (_, i) => signup(11 + i)),
    ]);
    expect(response.status).toBe(202);
    const ids = ((await response.json()) as { ids: string[] }).ids;
    const poisonId = ids[10] as string;
    await eventually(async () => (await attemptsOf(database.db, poisonId)).length >= 1, {
      timeoutMs: 30_000,
      message: () => `the oversized event was never tried:\n${relay.output()}`,
    });

    // Events sent while it is being retried arrive while it is still retrying.
    const later = await postMany(ingest.url, 20, 10, 100);
    const normal = [...ids.filter((id) => id !== poisonId), ...later];
    await eventually(() => normal.every((id) => received.has(id)), {
      timeoutMs: 30_000,
      message: () => `${normal.filter((id) => !received.has(id)).length} normal events missing`,
    });
    expect(await outboxRowOf(database.db, poisonId)).toMatchObject({ status: 'pending' });

    await eventually(async () => (await database.db('dead_letter_queue').where({ event_id: poisonId })).length === 1, {
      timeoutMs: 60_000,
      message: () => `the oversized event was not dead-lettered:\n${relay.output()}`,
    });
    const dead = await database.db('dead_letter_queue').where({ event_id: poisonId }).first();
    expect(dead).toMatchObject({ broker: 'kafka', destination: topic, status: 'dead', attempts: MAX_RETRIES + 1 });
    expect(dead.error).toMatch(/MessageRejectedError: Kafka refused the message .*MESSAGE_TOO_LARGE/);

    const history = await attemptsOf(database.db, poisonId);
    expect(history.map((h) => h.attempts)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(history.every((h) => /MESSAGE_TOO_LARGE/.test(h.lastError ?? ''))).toBe(true);
    expect(retryScheduleProblems(history, { baseDelayMs: RETRY_BASE_DELAY_MS, maxRetries: MAX_RETRIES })).toEqual([]);

    const statuses = (await database.db('outbox').select('status').count({ n: '*' }).groupBy('status')) as Array<{
      status: string;
      n: string;
    }>;
    expect(Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)]))).toEqual({
      published: normal.length,
      dead: 1,
    });
    expect(received.has(poisonId)).toBe(false);
  });
});
