import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src';

function configFile(content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'orchestron-topology-')), 'config.yaml');
  writeFileSync(file, content);
  return file;
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const TOPOLOGY_YAML = `
broker:
  kafka:
    topics:
      - name: events
        partitions: 6
        replication_factor: 3
        config: { max.message.bytes: 2097152, retention.ms: '604800000', cleanup.policy: delete }
      - { name: audit }
  rabbitmq:
    topology:
      exchanges:
        - { name: events, type: topic, durable: true }
        - { name: broadcast, type: fanout }
      queues:
        - { name: events.all }
        - name: orders
          type: quorum
          dead_letter_exchange: events.dlx
          dead_letter_routing_key: orders.dead
          message_ttl: 10m
          max_length: 100000
      bindings:
        - { queue: events.all, exchange: events, routing_key: '#' }
        - { queue: orders, exchange: events, routing_key: 'order.*' }
        - { queue: orders, exchange: broadcast }
`;

describe('broker topology configuration', () => {
  it('is empty by default', () => {
    const config = loadConfig({ env: {} });
    expect(config.broker.kafka.topics).toEqual([]);
    expect(config.broker.rabbitmq.topology).toEqual({ exchanges: [], queues: [], bindings: [] });
  });

  it('loads Kafka topics from YAML with their settings as Kafka strings', () => {
    const config = loadConfig({ file: configFile(TOPOLOGY_YAML), env: {} });

    expect(config.broker.kafka.topics).toEqual([
      {
        name: 'events',
        partitions: 6,
        replication_factor: 3,
        config: { 'max.message.bytes': '2097152', 'retention.ms': '604800000', 'cleanup.policy': 'delete' },
      },
      { name: 'audit', config: {} },
    ]);
  });

  it('loads RabbitMQ exchanges, queues and bindings from YAML with the defaults filled in', () => {
    const { topology } = loadConfig({ file: configFile(TOPOLOGY_YAML), env: {} }).broker.rabbitmq;

    expect(topology.exchanges).toEqual([
      { name: 'events', type: 'topic', durable: true },
      { name: 'broadcast', type: 'fanout', durable: true },
    ]);
    expect(topology.queues).toEqual([
      { name: 'events.all', type: 'classic', durable: true },
      {
        name: 'orders',
        type: 'quorum',
        durable: true,
        dead_letter_exchange: 'events.dlx',
        dead_letter_routing_key: 'orders.dead',
        message_ttl: 600_000,
        max_length: 100_000,
      },
    ]);
    expect(topology.bindings).toEqual([
      { queue: 'events.all', exchange: 'events', routing_key: '#' },
      { queue: 'orders', exchange: 'events', routing_key: 'order.*' },
      { queue: 'orders', exchange: 'broadcast', routing_key: '#' },
    ]);
  });

  it('takes each list as JSON from its environment variable, over the file', () => {
    const config = loadConfig({
      file: configFile(TOPOLOGY_YAML),
      env: {
        ORCHESTRON_BROKER_KAFKA_TOPICS: JSON.stringify([{ name: 'from-env', config: { 'retention.ms': 1000 } }]),
        ORCHESTRON_BROKER_RABBITMQ_TOPOLOGY_QUEUES: JSON.stringify([{ name: 'q', durable: false }]),
      },
    });

    expect(config.broker.kafka.topics).toEqual([{ name: 'from-env', config: { 'retention.ms': '1000' } }]);
    expect(config.broker.rabbitmq.topology.queues).toEqual([{ name: 'q', type: 'classic', durable: false }]);
    expect(config.broker.rabbitmq.topology.exchanges).toHaveLength(2);
  });

  it('lists every problem of every list, each with its path', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          ORCHESTRON_BROKER_KAFKA_TOPICS: JSON.stringify([
            { name: 'ok', partitions: 0, replication_factor: 1.5, config: { 'Not A Setting': 1, 'retention.ms': [] } },
            { name: 'bad name!', colour: 'red' },
            { name: 'ok' },
          ]),
          ORCHESTRON_BROKER_RABBITMQ_TOPOLOGY_EXCHANGES: JSON.stringify([{ name: 'amq.mine', type: 'x-delayed' }]),
          ORCHESTRON_BROKER_RABBITMQ_TOPOLOGY_QUEUES: JSON.stringify([
            { name: 'q', type: 'quorum', durable: false, message_ttl: 'soon', max_length: -1 },
            { name: 'r', dead_letter_routing_key: 'dead' },
          ]),
          ORCHESTRON_BROKER_RABBITMQ_TOPOLOGY_BINDINGS: JSON.stringify([{ queue: 'q', exchange: '' }, 'q->x']),
        },
      }),
    );

    expect(problems).toEqual(
      expect.arrayContaining([
        'broker.kafka.topics[0].partitions: an integer ≥ 1',
        'broker.kafka.topics[0].replication_factor: an integer ≥ 1',
        'broker.kafka.topics[0].config.Not A Setting: not a Kafka topic setting name',
        'broker.kafka.topics[0].config.retention.ms: must be a string, number or boolean',
        'broker.kafka.topics[1].colour: unknown key (name, partitions, replication_factor, config)',
        'broker.kafka.topics[1].name: a Kafka topic name (1-249 letters, digits, . _ -)',
        'broker.kafka.topics[2]: the same as broker.kafka.topics[0]',
        'broker.rabbitmq.topology.exchanges[0].name: names starting "amq." are reserved by RabbitMQ (bind to them instead)',
        'broker.rabbitmq.topology.exchanges[0].type: one of topic, direct, fanout, headers',
        'broker.rabbitmq.topology.queues[0].durable: quorum queues are always durable',
        'broker.rabbitmq.topology.queues[0].message_ttl: a duration such as "10m" or "30s", or milliseconds',
        'broker.rabbitmq.topology.queues[0].max_length: an integer ≥ 0',
        'broker.rabbitmq.topology.queues[1].dead_letter_routing_key: needs dead_letter_exchange',
        'broker.rabbitmq.topology.bindings[0].exchange: an exchange name (the default exchange "" cannot be bound)',
        'broker.rabbitmq.topology.bindings[1]: must be {queue, exchange, routing_key}',
      ]),
    );
    expect(problems).toHaveLength(15);
  });

  it('says a list is expected when it is given something else', () => {
    const problems = problemsOf(() =>
      loadConfig({ file: configFile('broker: {kafka: {topics: {name: events}}}\n'), env: {} }),
    );

    expect(problems).toContain('broker.kafka.topics: must be a list of {name, partitions, replication_factor, config}');
  });
});
