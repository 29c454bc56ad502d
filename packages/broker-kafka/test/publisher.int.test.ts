import type { Admin } from 'kafkajs';
import {
  BrokerUnavailableError,
  MessageRejectedError,
  type OutboundMessage,
  type ReceivedMessage,
  type Subscription,
} from '@orchestron/broker';
import { testMessage } from '@orchestron/broker/conformance';
import { TcpProxy, freePort } from '@orchestron/testing';
import { KafkaConsumer, KafkaPublisher, type KafkaBrokerOptions } from '@orchestron/broker-kafka';
import { kafkaBrokers } from '@orchestron/testing/services';
import { FAST_FAILURE, connectAdmin, uniqueName } from './support/fixtures';

let admin: Admin;
const topics: string[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  admin = await connectAdmin();
});

afterEach(async () => {
  await Promise.allSettled(
    closers
      .splice(0)
      .reverse()
      .map((close) => close()),
  );
  const existing = new Set(await admin.listTopics());
  const created = topics.splice(0).filter((t) => existing.has(t));
  if (created.length > 0) await admin.deleteTopics({ topics: created });
});

afterAll(async () => {
  await admin.disconnect();
});

function newTopic(): string {
  const topic = uniqueName('publisher-test');
  topics.push(topic);
  return topic;
}

function publisher(options: Partial<KafkaBrokerOptions> = {}): KafkaPublisher {
  const p = new KafkaPublisher({ brokers: kafkaBrokers(), clientId: 'publisher-test', ...options });
  closers.push(() => p.close());
  return p;
}

async function receive(topic: string, count: number): Promise<ReceivedMessage[]> {
  const consumer = new KafkaConsumer({ brokers: kafkaBrokers(), clientId: 'publisher-test-reader' });
  closers.push(() => consumer.close());
  const received: ReceivedMessage[] = [];
  const subscription: Subscription = await consumer.subscribe({ destination: topic, fromBeginning: true }, (m) => {
    received.push(m);
  });
  const deadline = Date.now() + 20_000;
  while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await subscription.stop();
  return received;
}

function logger() {
  return { error: jest.fn(), warn: jest.fn(), info: jest.fn(), debug: jest.fn() };
}

describe('KafkaPublisher', () => {
  it('writes the key, the payload and the CloudEvents Kafka binding headers', async () => {
    const topic = newTopic();
    const sent = testMessage(topic, {
      key: 'order-42',
      time: new Date('2025-03-01T12:34:56.789Z'),
      headers: { 'x-request-id': 'req-9' },
    });

    await expect(publisher().publish([sent])).resolves.toEqual([{ ok: true }]);

    const [received] = await receive(topic, 1);
    expect(received?.key).toBe('order-42');
    expect(received?.payload.equals(sent.payload)).toBe(true);
    expect(received?.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: sent.id,
      ce_type: sent.type,
      ce_source: sent.source,
      ce_time: '2025-03-01T12:34:56.789Z',
      'content-type': 'application/json',
      'x-request-id': 'req-9',
    });
  });

  it('creates a missing topic on first use, once, with the configured partitions', async () => {
    const topic = newTopic();
    const log = logger();
    const p = publisher({ topicPartitions: 2, logger: log });

    await p.publish([testMessage(topic)]);
    await p.publish([testMessage(topic)]);

    const created = log.info.mock.calls.filter(([message]) => message === 'created Kafka topic');
    expect(created).toEqual([['created Kafka topic', { topic }]]);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(2);
  });

  it('creates the topics it is given on connect', async () => {
    const [first, second] = [newTopic(), newTopic()];

    await publisher({ topics: [first, second] }).connect();

    const existing = await admin.listTopics();
    expect(existing).toEqual(expect.arrayContaining([first, second]));
  });

  it('refuses messages to a missing topic when it may not create topics, and publishes the rest', async () => {
    const missing = uniqueName('publisher-test-missing');
    const present = newTopic();
    await admin.createTopics({ topics: [{ topic: present }] });
    const p = publisher({ createTopics: false, ...FAST_FAILURE });

    const results = await p.publish([testMessage(missing), testMessage(present), testMessage(missing)]);

    expect(results.map((r) => r.ok)).toEqual([false, true, false]);
    const refused = results[0];
    expect(refused && !refused.ok && refused.error).toBeInstanceOf(MessageRejectedError);
    expect(await admin.listTopics()).not.toContain(missing);
  });

  it('refuses messages to an invalid topic name', async () => {
    const results = await publisher().publish([testMessage('not a valid topic!')]);

    expect(results[0]?.ok).toBe(false);
    const refused = results[0];
    expect(refused && !refused.ok && refused.error.message).toMatch(/INVALID_TOPIC_EXCEPTION/);
  });

  it('publishes a batch larger than max.message.bytes message by message, keeping the order', async () => {
    const topic = newTopic();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '16384' }] }],
    });
    const messages: OutboundMessage[] = Array.from({ length: 12 }, (_, i) =>
      testMessage(topic, { key: 'same', payload: Buffer.alloc(4_000, i), headers: { 'x-seq': String(i) } }),
    );

    const log = logger();

    const results = await publisher({ logger: log }).publish(messages);

    expect(results).toEqual(messages.map(() => ({ ok: true })));
    expect(log.debug).toHaveBeenCalledWith(
      'Kafka refused a record of the batch; sending one by one',
      expect.objectContaining({ topic, count: messages.length }),
    );
    const received = await receive(topic, messages.length);
    expect(received.map((m) => m.headers['x-seq'])).toEqual(messages.map((_, i) => String(i)));
  });

  it('probes by connecting the producer', async () => {
    await expect(publisher().probe()).resolves.toBeUndefined();
  });

  it('connects on the next publish once the broker can be reached again', async () => {
    const topic = newTopic();
    const port = await freePort();
    const p = publisher({ brokers: [`127.0.0.1:${port}`], ...FAST_FAILURE });

    await expect(p.publish([testMessage(topic)])).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(p.isHealthy()).toBe(false);

    // The broker "comes back" at the bootstrap address (kafkajs then follows the broker's
    // advertised address, so only the bootstrap connection goes through the proxy).
    const [host, brokerPort] = (kafkaBrokers()[0] ?? '').split(':');
    const proxy = await TcpProxy.start(host ?? '127.0.0.1', Number(brokerPort), port);
    closers.push(() => proxy.close());

    await expect(p.publish([testMessage(topic)])).resolves.toEqual([{ ok: true }]);
    expect(p.isHealthy()).toBe(true);
  });
});
