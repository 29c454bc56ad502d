// Raw batch publishing with each Kafka client library the project has measured, with the
// relay's producer settings (idempotent, acks from all in-sync replicas, murmur2 partitioning
// as the Java client), one awaited send per batch, in sequence: what a claim loop does, minus
// the database. The records are mapped by the adapter's own toKafkaMessage, so every client
// sends the same key, value and headers. Used by bench/kafka-clients.js and bench/relay.js.
'use strict';

const s = require('./support');

const { toKafkaMessage } = require(`${s.repo}/packages/broker-kafka/dist`);

/** kafkajs 2.2.4, as the adapter configures it: one request in flight. */
async function kafkajs(topic, messages, batchSize) {
  const { Kafka, logLevel, Partitioners } = s.fromPackage('kafkajs', 'packages/broker-kafka');
  const kafka = new Kafka({ clientId: 'orchestron-bench', brokers: s.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    return await timed(messages, batchSize, (batch) =>
      producer.send({ topic, acks: -1, messages: batch.map(toKafkaMessage) }),
    );
  } finally {
    await producer.disconnect();
  }
}

/** @platformatic/kafka (pure JavaScript, ESM: loaded with require(esm), Node >= 22.12). */
async function platformatic(topic, messages, batchSize) {
  const { Producer, ProduceAcks, compatibilityPartitioner, stringSerializer } = s.fromPackage(
    '@platformatic/kafka',
    'packages/broker-kafka',
  );
  const producer = new Producer({
    clientId: 'orchestron-bench',
    bootstrapBrokers: s.KAFKA_BROKERS,
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
    // (murmur2(key) & 0x7fffffff) % partitions, as the Java client and kafkajs; the default
    // (murmur2 >>> 0) would put a key on another partition than before.
    partitioner: compatibilityPartitioner,
    serializers: {
      key: stringSerializer,
      value: (value) => value,
      headerKey: stringSerializer,
      headerValue: stringSerializer,
    },
  });
  try {
    return await timed(messages, batchSize, (batch) =>
      producer.send({
        messages: batch.map((message) => {
          const record = toKafkaMessage(message);
          return { topic, key: record.key ?? undefined, value: record.value, headers: record.headers };
        }),
      }),
    );
  } finally {
    await producer.close();
  }
}

async function timed(messages, batchSize, send) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < messages.length; i += batchSize) await send(messages.slice(i, i + batchSize));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { perSecond: messages.length / seconds };
}

/** By name, as KAFKA_CLIENTS lists them. */
const rawKafkaPublishers = { kafkajs, platformatic };

module.exports = { rawKafkaPublishers };
