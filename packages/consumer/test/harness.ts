import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import type { Registry } from 'prom-client';
import type { OutboundMessage, Publisher } from '@orchestron/broker';
import { KafkaPublisher } from '@orchestron/broker-kafka';
import { RabbitMqPublisher } from '@orchestron/broker-rabbitmq';
import { amqpUrl, createTestDatabase, kafkaBrokers, type TestDatabase } from '@orchestron/testing';
import { createConsumerTables, type KafkaSourceOptions, type RabbitMqSourceOptions } from '../src';

/** One broker as the tests see it: a fresh destination, a real relay publisher, a way to read a queue/topic. */
export interface BrokerHarness {
  readonly broker: 'rabbitmq' | 'kafka';
  /** A fresh exchange+queue or topic; the consumer's source options for it. */
  prepare(label: string): Promise<Destination>;
  close(): Promise<void>;
}

export interface Destination {
  readonly name: string;
  readonly source: RabbitMqSourceOptions | KafkaSourceOptions;
  /** A dead-letter queue or topic name for this destination. */
  readonly deadLetter: string;
  /** Publishes through the relay's publisher for this broker; fails unless every message was confirmed. */
  publish(messages: readonly OutboundMessage[]): Promise<void>;
  /** Publishes bytes without any CloudEvents attribute, as a foreign producer might. */
  publishForeign(body: string): Promise<void>;
  /** Event ids of the messages in the dead-letter queue or topic. */
  readDeadLetters(expected: number): Promise<{ eventId: string; error: string }[]>;
}

const unique = (label: string): string => `consumer-${label}-${randomBytes(4).toString('hex')}`;

async function publishAll(publisher: Publisher, messages: readonly OutboundMessage[]): Promise<void> {
  const results = await publisher.publish(messages);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`publish failed: ${JSON.stringify(failed.slice(0, 3))}`);
}

export function rabbitMqHarness(): BrokerHarness {
  const publisher = new RabbitMqPublisher({ url: amqpUrl() });
  return {
    broker: 'rabbitmq',
    async prepare(label) {
      const name = unique(label);
      const declare = { exchange: name, bindingKeys: ['#'] };
      // Declared before anything is published, as an operator's topology would.
      const connection = await amqp.connect(amqpUrl());
      const channel = await connection.createChannel();
      await channel.assertExchange(name, 'topic', { durable: true });
      await channel.assertQueue(name, { durable: true, arguments: {} });
      await channel.bindQueue(name, name, '#');
      await connection.close();
      return {
        name,
        deadLetter: `${name}.dead`,
        source: { broker: 'rabbitmq', url: amqpUrl(), queue: name, declare, prefetch: 50, lagIntervalMs: 200 },
        publish: (messages) => publishAll(publisher, messages),
        async publishForeign(body) {
          const conn = await amqp.connect(amqpUrl());
          const ch = await conn.createConfirmChannel();
          ch.publish(name, 'foreign', Buffer.from(body), { contentType: 'application/json' });
          await ch.waitForConfirms();
          await conn.close();
        },
        async readDeadLetters(expected) {
          const conn = await amqp.connect(amqpUrl());
          const ch = await conn.createChannel();
          const out: { eventId: string; error: string }[] = [];
          const deadline = Date.now() + 20_000;
          while (out.length < expected && Date.now() < deadline) {
            const message = await ch.get(`${name}.dead`, { noAck: true });
            if (message === false) await new Promise((resolve) => setTimeout(resolve, 100));
            else
              out.push({
                eventId: message.properties.messageId as string,
                error: String(message.properties.headers?.['x-orchestron-error']),
              });
          }
          await conn.close();
          return out;
        },
      };
    },
    close: () => publisher.close(),
  };
}

export function kafkaHarness(): BrokerHarness {
  const kafka = new Kafka({ clientId: 'consumer-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const publisher = new KafkaPublisher({ brokers: kafkaBrokers(), clientId: 'consumer-test', createTopics: false });
  return {
    broker: 'kafka',
    async prepare(label) {
      const name = unique(label);
      await admin.connect();
      await admin.createTopics({
        topics: [
          { topic: name, numPartitions: 3 },
          { topic: `${name}.dead`, numPartitions: 1 },
        ],
        waitForLeaders: true,
      });
      return {
        name,
        deadLetter: `${name}.dead`,
        source: {
          broker: 'kafka',
          brokers: kafkaBrokers(),
          topic: name,
          groupId: `${name}-group`,
          sessionTimeoutMs: 6_000,
        },
        publish: (messages) => publishAll(publisher, messages),
        async publishForeign(body) {
          const producer = kafka.producer();
          await producer.connect();
          await producer.send({ topic: name, acks: -1, messages: [{ key: 'foreign', value: body }] });
          await producer.disconnect();
        },
        async readDeadLetters(expected) {
          const reader = kafka.consumer({ groupId: `${name}-dead-reader`, maxWaitTimeInMs: 200 });
          const out: { eventId: string; error: string }[] = [];
          await reader.connect();
          await reader.subscribe({ topic: `${name}.dead`, fromBeginning: true });
          await reader.run({
            eachMessage: async ({ message }) => {
              const header = (n: string): string => String(message.headers?.[n] ?? '');
              out.push({
                eventId: header('orchestron-event-id') || header('ce_id'),
                error: header('x-orchestron-error'),
              });
            },
          });
          const deadline = Date.now() + 30_000;
          while (out.length < expected && Date.now() < deadline)
            await new Promise((resolve) => setTimeout(resolve, 100));
          await reader.disconnect();
          return out;
        },
      };
    },
    async close() {
      await publisher.close();
      await admin.disconnect();
    },
  };
}

/** The consumer's own database: the library's tables plus the handler's table. */
export interface ConsumerDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  /** How many rows the handler wrote per event id. */
  handledCounts(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/**
 * `handled` has no unique key on purpose: a second handling of an event would add a second row,
 * so "exactly once" is checked by counting, not assumed by a constraint.
 */
export async function consumerDatabase(label: string): Promise<ConsumerDatabase> {
  const database: TestDatabase = await createTestDatabase(label);
  const pool = new pg.Pool({ connectionString: database.url, application_name: 'orchestron-test', max: 12 });
  await createConsumerTables(pool);
  await pool.query(`create table handled (event_id text not null, consumer text not null, type text not null,
                      partition_key text, out_of_order boolean not null, replay text, handled_at timestamptz not null default clock_timestamp())`);
  return {
    url: database.url,
    pool,
    async handledCounts() {
      const { rows } = await pool.query<{ event_id: string; n: string }>(
        'select event_id, count(*) as n from handled group by event_id',
      );
      return new Map(rows.map((row) => [row.event_id, Number(row.n)]));
    },
    async close() {
      await pool.end();
      await database.drop();
    },
  };
}

/** The value of a counter or gauge for the given labels (0 when never set). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return match?.value ?? 0;
}
