import type { Admin } from 'kafkajs';
import type { ReceivedMessage } from '@orchestron/broker';
import { testMessage } from '@orchestron/broker/conformance';
import { KafkaConsumer, KafkaPublisher } from '@orchestron/broker-kafka';
import { kafkaBrokers } from '@orchestron/testing/services';
import { connectAdmin, uniqueName } from './support/fixtures';

const logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn(), debug: jest.fn() };
let admin: Admin;
let topic: string;
let publisher: KafkaPublisher;
let consumer: KafkaConsumer;

beforeAll(async () => {
  admin = await connectAdmin();
});

beforeEach(async () => {
  topic = uniqueName('consumer-test');
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  publisher = new KafkaPublisher({ brokers: kafkaBrokers(), clientId: 'consumer-test' });
  consumer = new KafkaConsumer({ brokers: kafkaBrokers(), clientId: 'consumer-test', logger });
});

afterEach(async () => {
  await consumer.close();
  await publisher.close();
  await admin.deleteGroups([`${topic}.group`]).catch(() => undefined);
  await admin.deleteTopics({ topics: [topic] });
});

afterAll(async () => {
  await admin.disconnect();
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('KafkaConsumer', () => {
  it('keeps trying while the topic does not exist yet, and reads it once it does', async () => {
    const later = uniqueName('consumer-later');
    const seen: ReceivedMessage[] = [];
    const subscribing = consumer.subscribe({ destination: later, fromBeginning: true }, (m) => {
      seen.push(m);
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await admin.createTopics({ topics: [{ topic: later, numPartitions: 1 }] });
    const subscription = await subscribing;
    const message = testMessage(later);
    await publisher.publish([message]);
    await waitFor(() => seen.length === 1);
    expect(seen[0]?.id).toBe(message.id);
    await subscription.stop();
    await admin.deleteTopics({ topics: [later] });
  });

  it('resumes a named group where it stopped', async () => {
    const group = `${topic}.group`;
    const [first, second] = [testMessage(topic), testMessage(topic)];
    await publisher.publish([first]);
    const seen: ReceivedMessage[] = [];
    const subscription = await consumer.subscribe({ destination: topic, group, fromBeginning: true }, (m) => {
      seen.push(m);
    });
    await waitFor(() => seen.length === 1);
    await subscription.stop();

    await publisher.publish([second]);
    const resumed: ReceivedMessage[] = [];
    await consumer.subscribe({ destination: topic, group, fromBeginning: true }, (m) => {
      resumed.push(m);
    });
    await waitFor(() => resumed.length >= 1);

    expect(resumed.map((m) => m.id)).toEqual([second.id]);
  });

  it('skips a message whose handler throws, logs it, and goes on with the next', async () => {
    const [bad, good] = [testMessage(topic), testMessage(topic)];
    const received: string[] = [];
    await consumer.subscribe({ destination: topic, fromBeginning: true }, (m) => {
      if (m.id === bad.id) throw new Error('handler broke');
      received.push(m.id ?? '');
    });

    await publisher.publish([bad, good]);
    await waitFor(() => received.length === 1);

    expect(received).toEqual([good.id]);
    expect(logger.error).toHaveBeenCalledWith(
      'subscription handler failed; message skipped',
      expect.objectContaining({ topic, error: 'handler broke' }),
    );
  });

  it('fails to subscribe to a topic that does not exist, within the join timeout', async () => {
    const short = new KafkaConsumer({
      brokers: kafkaBrokers(),
      clientId: 'consumer-test',
      retry: { retries: 1, initialRetryTimeMs: 100, maxRetryTimeMs: 200 },
      joinTimeoutMs: 3_000,
    });
    try {
      const started = Date.now();
      await expect(
        short.subscribe({ destination: uniqueName('consumer-test-missing') }, () => undefined),
      ).rejects.toThrow(/could not subscribe/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await short.close();
    }
  });
});
