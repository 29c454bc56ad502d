import {
  amqpUrl,
  createTestDatabase,
  eventually,
  kafkaBrokers,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { consumeKafka, consumeRabbitMq, fanOutRules, postEvents, type Received, signup, uniqueName } from './harness';

// Event times a sender may give that JavaScript dates or AMQP properties cannot hold as they
// are, through ingest, relay and both real brokers: each is published (none stalls the relay
// or the events after it) with the CloudEvents time the docs promise (docs/architecture.md,
// "Time and numbers per broker").

let database: TestDatabase;
const running: AppProcess[] = [];
let rabbit: Received;
let kafka: Received | undefined;
let ingestUrl: string;
let topicName: string;

beforeAll(async () => {
  database = await createTestDatabase('e2e_event_times');
  const topic = uniqueName('orchestron_e2e_times');
  const exchange = uniqueName('orchestron_e2e_times');
  topicName = topic;
  rabbit = await consumeRabbitMq(exchange);
  const env = {
    DATABASE_URL: database.url,
    AMQP_URL: amqpUrl(),
    KAFKA_BROKERS: kafkaBrokers().join(','),
    ORCHESTRON_ROUTING_RULES: fanOutRules(topic, exchange),
  };
  const ingest = await startApp('ingest', {
    ...env,
    ORCHESTRON_API_RATE_LIMIT: '0',
    ORCHESTRON_API_REQUIRE_API_KEY: 'false',
  });
  ingestUrl = ingest.url;
  running.push(ingest, await startApp('relay', { ...env, ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '500ms' }));
});

afterAll(async () => {
  await rabbit?.close();
  await kafka?.close();
  await Promise.all(running.map((p) => p.kill()));
  await database?.drop();
});

async function accepted(response: Response): Promise<string> {
  if (response.status !== 202) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

const sentTimes: Array<{ sent: string; published: string }> = [
  { sent: '1969-12-31T23:59:59Z', published: '1969-12-31T23:59:59.000Z' },
  { sent: '0000-01-01T00:00:00Z', published: '0000-01-01T00:00:00.000Z' },
  { sent: '0001-01-01T00:00:00.123456+01:00', published: '0000-12-31T23:00:00.123Z' },
  { sent: '2016-12-31T23:59:60Z', published: '2017-01-01T00:00:00.000Z' },
  { sent: '2016-12-31T18:59:60.250-05:00', published: '2017-01-01T00:00:00.250Z' },
];

describe('event times through both brokers', () => {
  it("publishes each event with the sender's time normalised, pre-1970 and leap seconds included, and the events after them", async () => {
    const ids = new Map<string, string>();
    for (const [i, { sent, published }] of sentTimes.entries()) {
      ids.set(await accepted(await postEvents(ingestUrl, signup(i, { time: sent }))), published);
    }
    // The same times as CloudEvents binary-mode attributes.
    const binary = await fetch(`${ingestUrl}/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': uniqueName('old'),
        'ce-source': '/e2e/times',
        'ce-type': 'user.signed_up',
        'ce-time': '1900-01-01T00:00:00Z',
      },
      body: JSON.stringify(signup(99).data),
    });
    ids.set(await accepted(binary), '1900-01-01T00:00:00.000Z');
    const after = await accepted(await postEvents(ingestUrl, signup(100)));

    const all = [...ids.keys(), after];
    await eventually(() => all.every((id) => rabbit.distinctIds().has(id)), {
      timeoutMs: 60_000,
      message: () => `RabbitMQ: received ${rabbit.distinctIds().size} of ${all.length} events`,
    });
    kafka = await consumeKafka(topicName);
    const viaKafka = kafka;
    await eventually(() => all.every((id) => viaKafka.distinctIds().has(id)), {
      timeoutMs: 60_000,
      message: () => `Kafka: received ${viaKafka.distinctIds().size} of ${all.length} events`,
    });
    for (const [id, published] of ids) {
      const viaRabbit = rabbit.messages.find((m) => m.id === id);
      const fromKafka = viaKafka.messages.find((m) => m.id === id);
      expect({ id, time: viaRabbit?.headers['cloudEvents:time'] }).toEqual({ id, time: published });
      expect({ id, time: fromKafka?.headers.ce_time }).toEqual({ id, time: published });
    }
    const statuses = await database.db('outbox').distinct('status');
    expect(statuses).toEqual([{ status: 'published' }]);
  });
});
