import {
  createTestDatabase,
  eventually,
  kafkaBrokers,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { consumeKafka as consumeTopic, postEvents, postMany, type Received, signup, uniqueName } from './harness';

// The pipeline with broker.type kafka: ingest routes to the topic, relay publishes with the
// idempotent producer, and a consumer group reads what really reached the topic.

let database: TestDatabase;
const running: AppProcess[] = [];
const consumers: Received[] = [];

/** A fresh consumer group reading the topic from its beginning. */
async function consumeKafka(topic: string): Promise<Received> {
  const received = await consumeTopic(topic);
  consumers.push(received);
  return received;
}

async function startPipeline(topic: string): Promise<AppProcess> {
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
  running.push(ingest, await startApp('relay', { ...common, ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '1s' }));
  return ingest;
}

/** The relay published (and the broker acknowledged) `count` rows: the topic exists by then. */
async function allPublished(count: number): Promise<void> {
  await eventually(
    async () => {
      const [row] = (await database.db('outbox').where({ status: 'published' }).count({ n: '*' })) as Array<{
        n: number;
      }>;
      return Number(row?.n) >= count;
    },
    { timeoutMs: 60_000, message: () => `fewer than ${count} outbox rows published` },
  );
}

beforeAll(async () => {
  database = await createTestDatabase('e2e_kafka');
});

beforeEach(async () => {
  await database.db.raw('truncate events cascade');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  await Promise.all(consumers.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await database.drop();
});

describe('ingest -> outbox -> relay -> Kafka', () => {
  it('delivers a POSTed event to the topic with payload, event id, type and key intact', async () => {
    const topic = uniqueName('orchestron_e2e');
    const ingest = await startPipeline(topic);
    const response = await postEvents(ingest.url, signup(7, { source: 'crm', partition_key: 'customer-7' }));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };

    await allPublished(1);
    const received = await consumeKafka(topic);
    await received.waitForDistinct(1, 60_000);
    const [message] = received.messages;
    expect(message?.id).toBe(id);
    expect(message?.type).toBe('user.signed_up');
    expect(message?.source).toBe('crm');
    expect(message?.key).toBe('customer-7');
    expect(message?.headers).toMatchObject({ ce_id: id, ce_type: 'user.signed_up', ce_specversion: '1.0' });
    expect(JSON.parse(message?.payload.toString() ?? '')).toEqual(signup(7).data);
  });

  it('delivers a batch of 1,000 events complete, none twice', async () => {
    const topic = uniqueName('orchestron_e2e');
    const ingest = await startPipeline(topic);
    const ids = await postMany(ingest.url, 1_000, 500);
    await allPublished(1_000);
    const received = await consumeKafka(topic);
    await received.waitForDistinct(1_000, 90_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received.messages).toHaveLength(1_000);
    expect(received.distinctIds()).toEqual(new Set(ids));
  });
});
