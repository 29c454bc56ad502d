import { rmSync } from 'node:fs';
import { CloudEvent, Kafka, type KafkaMessage } from 'cloudevents';
import type { ReceivedMessage } from '@orchestron/broker';
import { KafkaConsumer } from '@orchestron/broker-kafka';
import {
  amqpUrl,
  createTestDatabase,
  eventually,
  kafkaBrokers,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { consumeRabbitMq, Received, schemasWith, uniqueName } from './harness';

// CloudEvents through the whole pipeline: POSTed to ingest in binary and structured mode,
// fanned out by one routing rule to a Kafka topic and a RabbitMQ exchange, published by the
// relay, and read back with the CloudEvents SDK (strict validation): what the sender said
// must arrive, in each broker's CloudEvents binding.

const signup = { user_id: 'u7', email: 'u7@example.com', signed_up_at: '2026-11-26T10:00:00Z' };
const requestTraceparent = '00-11111111111111111111111111111111-2222222222222222-01';
const eventTraceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** What each POSTed event must look like at the consumer. */
interface Expected {
  id: string;
  source: string;
  type: string;
  time: string;
  datacontenttype: string;
  subject?: string;
  dataschema?: string;
  extensions: Record<string, string>;
  partitionkey?: string;
  data: unknown;
}

const binaryEvent: Expected = {
  id: 'reading-1',
  source: '/sensors/1',
  type: 'user.signed_up',
  time: '2026-11-26T11:00:00.250+01:00',
  datacontenttype: 'application/json',
  subject: 'Café au lait',
  extensions: { comexampleextension: 'value', traceparent: eventTraceparent },
  partitionkey: 'sensor-1',
  data: signup,
};

const structuredEvent: Expected = {
  id: 'A234-1234-1234',
  source: 'https://github.com/org/repo',
  type: 'user.signed_up',
  time: '2026-11-26T09:30:00Z',
  datacontenttype: 'application/json',
  subject: 'pull/7',
  dataschema: 'https://schemas.example.com/signup.json',
  extensions: { comexampleothervalue: '5', comexampleflag: 'true' },
  data: signup,
};

const noteText = 'Temperature ok ✓';
const opaqueEvent: Expected = {
  id: 'note-1',
  source: 'urn:sensors:notes',
  type: 'sensor.note',
  time: '2026-11-26T09:45:00Z',
  datacontenttype: 'text/plain; charset=utf-8',
  extensions: {},
  partitionkey: 'sensor-1',
  data: Buffer.from(noteText),
};

let database: TestDatabase;
let schemasDir: string;
let topic: string;
let exchange: string;
let rabbit: Received;
const running: AppProcess[] = [];
const kafkaConsumers: Received[] = [];
/** Orchestron's event id of each posted event, by CloudEvents id. */
const eventIds = new Map<string, string>();

async function post(ingestUrl: string, headers: Record<string, string>, body: string | Buffer): Promise<void> {
  const response = await fetch(`${ingestUrl}/events`, {
    method: 'POST',
    headers: { traceparent: requestTraceparent, ...headers },
    body,
  });
  if (response.status !== 202) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
  const { id } = (await response.json()) as { id: string };
  const ceId = headers['ce-id'] ?? (JSON.parse(body.toString()) as { id: string }).id;
  eventIds.set(ceId, id);
}

/** The CloudEvents SDK's Kafka binding, given the record as kafkajs delivered it. */
function kafkaToCloudEvent(message: ReceivedMessage): CloudEvent<unknown> {
  const record = {
    headers: message.headers,
    key: message.key as string,
    value: message.payload,
    body: message.payload,
  } as KafkaMessage;
  const event = Kafka.toEvent(record) as CloudEvent<unknown>;
  event.validate();
  return event;
}

/**
 * The SDK has no AMQP binding: the AMQP binding's mapping by hand (content-type property ->
 * datacontenttype, `cloudEvents:<name>` application properties -> attributes), then the SDK's
 * strict constructor, which validates the event.
 */
function amqpToCloudEvent(message: ReceivedMessage): CloudEvent<unknown> {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (name.startsWith('cloudEvents:')) attributes[name.slice('cloudEvents:'.length)] = value;
  }
  const contentType = message.contentType ?? undefined;
  const data = contentType?.startsWith('application/json') ? JSON.parse(message.payload.toString()) : message.payload;
  return new CloudEvent<unknown>({ ...attributes, datacontenttype: contentType, data });
}

function expectRoundTrip(event: CloudEvent<unknown>, expected: Expected): void {
  expect(event.specversion).toBe('1.0');
  expect(event.id).toBe(expected.id);
  expect(event.source).toBe(expected.source);
  expect(event.type).toBe(expected.type);
  expect(new Date(event.time as string).getTime()).toBe(new Date(expected.time).getTime());
  expect(event.datacontenttype).toBe(expected.datacontenttype);
  expect(event.subject).toBe(expected.subject);
  expect(event.dataschema).toBe(expected.dataschema);
  expect(event).toMatchObject(expected.extensions);
  if (expected.partitionkey) expect(String(event.partitionkey)).toBe(expected.partitionkey);
  if (Buffer.isBuffer(expected.data)) expect(Buffer.from(event.data as Uint8Array).equals(expected.data)).toBe(true);
  else expect(event.data).toEqual(expected.data);
}

const byCloudEventId = (events: CloudEvent<unknown>[], id: string) => events.find((e) => e.id === id) as CloudEvent;

beforeAll(async () => {
  database = await createTestDatabase('e2e_cloudevents');
  topic = uniqueName('orchestron_e2e_ce');
  exchange = uniqueName('orchestron_e2e_ce');
  // The repository's schemas plus a type of opaque (text) data, held as base64.
  schemasDir = schemasWith('sensor.note', { type: 'string', contentEncoding: 'base64' });

  // Bound before anything is published: RabbitMQ returns unroutable (mandatory) messages.
  rabbit = await consumeRabbitMq(exchange);
  const env = {
    DATABASE_URL: database.url,
    AMQP_URL: amqpUrl(),
    KAFKA_BROKERS: kafkaBrokers().join(','),
    ORCHESTRON_SCHEMAS_DIRECTORY: schemasDir,
    ORCHESTRON_ROUTING_RULES: JSON.stringify([
      {
        destinations: [
          { broker: 'kafka', topic },
          { broker: 'rabbitmq', exchange },
        ],
      },
    ]),
  };
  const ingest = await startApp('ingest', {
    ...env,
    ORCHESTRON_API_RATE_LIMIT: '0',
    ORCHESTRON_API_REQUIRE_API_KEY: 'false',
  });
  running.push(ingest, await startApp('relay', { ...env, ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '1s' }));

  await post(
    ingest.url,
    {
      'content-type': binaryEvent.datacontenttype,
      'ce-specversion': '1.0',
      'ce-id': binaryEvent.id,
      'ce-source': binaryEvent.source,
      'ce-type': binaryEvent.type,
      'ce-time': binaryEvent.time,
      'ce-subject': 'Caf%C3%A9%20au%20lait',
      'ce-partitionkey': 'sensor-1',
      'ce-comexampleextension': 'value',
      'ce-traceparent': eventTraceparent,
    },
    JSON.stringify(signup),
  );
  await post(
    ingest.url,
    { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    JSON.stringify({
      specversion: '1.0',
      id: structuredEvent.id,
      source: structuredEvent.source,
      type: structuredEvent.type,
      time: structuredEvent.time,
      subject: structuredEvent.subject,
      dataschema: structuredEvent.dataschema,
      datacontenttype: 'application/json',
      comexampleothervalue: 5,
      comexampleflag: true,
      data: signup,
    }),
  );
  await post(
    ingest.url,
    {
      'content-type': opaqueEvent.datacontenttype,
      'ce-specversion': '1.0',
      'ce-id': opaqueEvent.id,
      'ce-source': opaqueEvent.source,
      'ce-type': opaqueEvent.type,
      'ce-time': opaqueEvent.time,
      'ce-partitionkey': 'sensor-1',
    },
    Buffer.from(noteText),
  );
  // Three events, two destinations each.
  await eventually(
    async () => {
      const [row] = (await database.db('outbox').where({ status: 'published' }).count({ n: '*' })) as Array<{
        n: number;
      }>;
      return Number(row?.n) === 6;
    },
    { timeoutMs: 60_000, message: () => 'the six outbox rows were not all published' },
  );
});

afterAll(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  await Promise.all([rabbit, ...kafkaConsumers].filter(Boolean).map((c) => c.close()));
  await database?.drop();
  if (schemasDir) rmSync(schemasDir, { recursive: true, force: true });
});

describe('CloudEvents ingest -> relay -> brokers, read with the CloudEvents SDK', () => {
  it('delivers binary, structured and opaque CloudEvents to Kafka in the Kafka binding, attributes intact', async () => {
    const consumer = new KafkaConsumer({ brokers: kafkaBrokers(), clientId: 'orchestron-e2e' });
    const messages: ReceivedMessage[] = [];
    const received = new Received(
      messages,
      await consumer.subscribe({ destination: topic, group: uniqueName('e2e_ce'), fromBeginning: true }, (m) => {
        messages.push(m);
      }),
      consumer,
    );
    kafkaConsumers.push(received);
    await received.waitForDistinct(3, 60_000);

    const events = messages.map(kafkaToCloudEvent);
    for (const expected of [binaryEvent, structuredEvent, opaqueEvent]) {
      expectRoundTrip(byCloudEventId(events, expected.id), expected);
    }
    // Orchestron's own metadata stays beside the event's attributes, under plain names.
    const binary = messages.find((m) => m.headers.ce_id === binaryEvent.id) as ReceivedMessage;
    expect(binary.key).toBe('sensor-1');
    expect(binary.id).toBe(eventIds.get(binaryEvent.id));
    expect(binary.headers).toMatchObject({
      'orchestron-event-id': eventIds.get(binaryEvent.id),
      traceparent: requestTraceparent,
      ce_traceparent: eventTraceparent,
      'x-request-id': expect.any(String),
    });
  });

  it('delivers them to RabbitMQ in the AMQP binding, attributes intact', async () => {
    await rabbit.waitForDistinct(3, 30_000);
    const events = rabbit.messages.map(amqpToCloudEvent);
    for (const expected of [binaryEvent, structuredEvent, opaqueEvent]) {
      expectRoundTrip(byCloudEventId(events, expected.id), expected);
    }
    const structured = rabbit.messages.find((m) => m.headers['cloudEvents:id'] === structuredEvent.id);
    expect(structured?.id).toBe(eventIds.get(structuredEvent.id));
    expect(structured?.routingKey).toBe('user.signed_up');
    expect(structured?.headers).toMatchObject({
      traceparent: requestTraceparent,
      'x-request-id': expect.any(String),
    });
    expect(structured?.headers).not.toHaveProperty('cloudEvents:traceparent');
  });
});
