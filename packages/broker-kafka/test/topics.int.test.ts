import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { testMessage } from '@orchestron/broker/conformance';
import { KafkaPublisher, type KafkaBrokerOptions } from '@orchestron/broker-kafka';
import { BrokerUnavailableError } from '@orchestron/broker';
import { TcpProxy } from '@orchestron/testing';
import { kafkaBrokers } from '@orchestron/testing/services';
import { FAST_FAILURE, connectAdmin, uniqueName } from './support/fixtures';

// Declared topics (relay: broker.kafka.topics) against the real broker: created with their
// settings, extended but never shrunk, and drift reported instead of changed.

let admin: Admin;
const topics: string[] = [];
const publishers: KafkaPublisher[] = [];

beforeAll(async () => {
  admin = await connectAdmin();
});

afterEach(async () => {
  await Promise.allSettled(publishers.splice(0).map((p) => p.close()));
  const existing = new Set(await admin.listTopics());
  const created = topics.splice(0).filter((t) => existing.has(t));
  if (created.length > 0) await admin.deleteTopics({ topics: created });
});

afterAll(async () => {
  await admin.disconnect();
});

function newTopic(): string {
  const topic = uniqueName('topics-test');
  topics.push(topic);
  return topic;
}

function logger() {
  return { error: jest.fn(), warn: jest.fn(), info: jest.fn(), debug: jest.fn() };
}

function publisher(options: Partial<KafkaBrokerOptions>): KafkaPublisher {
  const p = new KafkaPublisher({ brokers: kafkaBrokers(), clientId: 'topics-test', ...options });
  publishers.push(p);
  return p;
}

async function partitionCount(topic: string): Promise<number> {
  const { topics: [metadata] = [] } = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata?.partitions.length ?? 0;
}

async function topicSetting(topic: string, name: string): Promise<string | undefined> {
  const described = await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }],
    includeSynonyms: false,
  });
  return described.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
}

function messagesOf(mock: jest.Mock): string[] {
  return mock.mock.calls.map(([message]) => message as string);
}

describe('KafkaPublisher declared topics', () => {
  it('creates a declared topic on connect with its partitions and topic settings', async () => {
    const topic = newTopic();
    const log = logger();

    await publisher({
      topicSpecs: [{ name: topic, partitions: 4, config: { 'max.message.bytes': '65536', 'retention.ms': '3600000' } }],
      logger: log,
    }).connect();

    expect(await partitionCount(topic)).toBe(4);
    expect(await topicSetting(topic, 'max.message.bytes')).toBe('65536');
    expect(await topicSetting(topic, 'retention.ms')).toBe('3600000');
    expect(log.info).toHaveBeenCalledWith('created Kafka topic', {
      topic,
      partitions: 4,
      config: { 'max.message.bytes': '65536', 'retention.ms': '3600000' },
    });
  });

  it('adds partitions to an existing topic that has fewer than declared', async () => {
    const topic = newTopic();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const log = logger();

    await publisher({ topicSpecs: [{ name: topic, partitions: 3 }], logger: log }).connect();

    expect(await partitionCount(topic)).toBe(3);
    expect(log.info).toHaveBeenCalledWith('added partitions to Kafka topic', { topic, from: 1, to: 3 });
  });

  it('never removes partitions, and reports a topic with more than declared', async () => {
    const topic = newTopic();
    await admin.createTopics({ topics: [{ topic, numPartitions: 5 }], waitForLeaders: true });
    const log = logger();

    await publisher({ topicSpecs: [{ name: topic, partitions: 2 }], logger: log }).connect();

    expect(await partitionCount(topic)).toBe(5);
    expect(log.warn).toHaveBeenCalledWith(
      'Kafka topic has more partitions than declared; partitions are never removed',
      { topic, declared: 2, actual: 5 },
    );
  });

  it('reports settings and replication factor that differ from the declared ones without changing them', async () => {
    const topic = newTopic();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '86400000' }] }],
      waitForLeaders: true,
    });
    const log = logger();

    await publisher({
      topicSpecs: [
        {
          name: topic,
          partitions: 1,
          replicationFactor: 3,
          config: { 'retention.ms': '3600000', 'cleanup.policy': 'delete' },
        },
      ],
      logger: log,
    }).connect();

    expect(await topicSetting(topic, 'retention.ms')).toBe('86400000');
    expect(log.warn).toHaveBeenCalledWith('Kafka topic setting differs from the declared one; not changed', {
      topic,
      setting: 'retention.ms',
      declared: '3600000',
      actual: '86400000',
    });
    expect(log.warn).toHaveBeenCalledWith('Kafka topic replication factor differs from the declared one; not changed', {
      topic,
      declared: 3,
      actual: 1,
    });
    // cleanup.policy is "delete" already (the default): no drift reported for it.
    expect(
      log.warn.mock.calls.filter(([, meta]) => (meta as { setting?: string }).setting === 'cleanup.policy'),
    ).toEqual([]);
    expect(messagesOf(log.info)).not.toContain('added partitions to Kafka topic');
  });

  it('declares topics even where undeclared ones may not be created', async () => {
    const declared = newTopic();
    const undeclared = uniqueName('topics-test-undeclared');
    const p = publisher({ createTopics: false, topicSpecs: [{ name: declared, partitions: 2 }], ...FAST_FAILURE });

    await p.connect();
    const results = await p.publish([testMessage(declared), testMessage(undeclared)]);

    expect(await partitionCount(declared)).toBe(2);
    expect(results.map((r) => r.ok)).toEqual([true, false]);
    expect(await admin.listTopics()).not.toContain(undeclared);
  });

  it('creates declared topics on the first publish when the cluster was away at connect', async () => {
    const topic = newTopic();
    const other = newTopic();
    const [host, port] = (kafkaBrokers()[0] ?? '127.0.0.1:9092').split(':');
    // Bootstrap through a proxy that is down at first; the broker's advertised address is
    // used directly once metadata comes through.
    const proxy = await TcpProxy.start(host ?? '127.0.0.1', Number(port));
    try {
      await proxy.cut();
      const p = publisher({
        brokers: [`127.0.0.1:${proxy.port}`],
        topicSpecs: [{ name: topic, partitions: 2 }],
        ...FAST_FAILURE,
      });
      await expect(p.connect()).rejects.toBeInstanceOf(BrokerUnavailableError);
      expect(await admin.listTopics()).not.toContain(topic);

      await proxy.restore();
      await expect(p.publish([testMessage(other)])).resolves.toEqual([{ ok: true }]);

      expect(await partitionCount(topic)).toBe(2);
    } finally {
      await proxy.close();
    }
  });
});
