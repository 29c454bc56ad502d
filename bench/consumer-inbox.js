#!/usr/bin/env node
// Consumer throughput through the inbox (@orchestron/consumer) beside a consumer that only
// acknowledges, in the same run, on the same messages.
//
// For each broker (RabbitMQ, Kafka):
//   1. publishes EVENTS messages shaped as the relay publishes them (1 KB order.created JSON,
//      ingest's headers, KEYS partition keys; the adapters' own toAmqpPublish / toKafkaMessage)
//      to a fresh exchange with two durable queues bound with '#' (each gets every message), or
//      to a fresh 3-partition topic (read by two consumer groups);
//   2. "ack only": the raw client library reads them and acknowledges each (amqplib, prefetch
//      PREFETCH, ack per message; kafkajs eachMessage, partitions read concurrently, offsets
//      committed as kafkajs does by default);
//   3. "inbox": the library reads the other copy with the defaults a service would use
//      (ordering by key, concurrency CONCURRENCY, the same prefetch) and a handler that inserts
//      one row per event into a table of a scratch database, through the inbox: one
//      transaction per event (BEGIN, inbox insert, key position, handler insert, COMMIT), then
//      the ack.
// Rate = events / (time of the last handled event − time of the first received one).
//
// Run by hand, after a build (`npx tsc -b`), against loopback services only:
//   node bench/consumer-inbox.js
//   EVENTS=20000 BROKERS=rabbitmq,kafka KEYS=1000 CONCURRENCY=10 PREFETCH=100 node bench/consumer-inbox.js
// Bounded: EVENTS per broker, each drain given at most MAX_DRAIN_SECONDS (default 300). About a
// minute with the defaults. Exchanges, queues, topics and the scratch database are deleted at
// the end (`--keep` keeps the database).
'use strict';

const { randomUUID } = require('node:crypto');
const s = require('./support');

const amqp = s.fromPackage('amqplib', 'packages/broker-rabbitmq');
const pg = s.fromPackage('pg', 'packages/consumer');
const { toAmqpPublish } = require(`${s.repo}/packages/broker-rabbitmq/dist`);
const { toKafkaMessage } = require(`${s.repo}/packages/broker-kafka/dist`);
const { createConsumer, createConsumerTables } = require(`${s.repo}/packages/consumer/dist`);

const DATABASE = 'orchestron_bench_consumer';
const EVENTS = Number(process.env.EVENTS ?? 20_000);
const KEYS = Number(process.env.KEYS ?? 1_000);
const BROKERS = (process.env.BROKERS ?? 'rabbitmq,kafka').split(',');
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 10);
const PREFETCH = Number(process.env.PREFETCH ?? 100);
const MAX_DRAIN_MS = Number(process.env.MAX_DRAIN_SECONDS ?? 300) * 1000;

/** The relay's broker-neutral messages (see apps/relay/src/to-message.ts) for one destination. */
function messages(destination) {
  return Array.from({ length: EVENTS }, (_, n) => ({
    id: s.db.uuidv7(),
    type: 'order.created',
    source: 'bench',
    time: new Date(),
    contentType: 'application/json',
    destination,
    routingKey: 'order.created',
    key: `order-${n % KEYS}`,
    headers: {
      'x-request-id': randomUUID(),
      'api-key': 'bench',
      traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`,
    },
    attributes: {},
    payload: Buffer.from(JSON.stringify(s.orderEvent(n).data)),
  }));
}

/** Counts arrivals; resolves `done` with the rate once `EVENTS` have arrived. */
function drain(label) {
  let first = 0;
  let count = 0;
  let resolve;
  let reject;
  const done = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(
    () => reject(new Error(`${label}: ${count} of ${EVENTS} after ${MAX_DRAIN_MS} ms`)),
    MAX_DRAIN_MS,
  );
  return {
    done,
    arrived() {
      if (count === 0) first = performance.now();
      count += 1;
      if (count === EVENTS) {
        clearTimeout(timer);
        resolve(EVENTS / ((performance.now() - first) / 1000));
      }
    },
  };
}

async function consumerDatabase() {
  await s.admin(`drop database if exists ${DATABASE} with (force)`);
  await s.admin(`create database ${DATABASE}`);
  const url = new URL(s.SERVER_URL);
  url.pathname = `/${DATABASE}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: CONCURRENCY + 2 });
  await createConsumerTables(pool);
  await pool.query(`create table handled (event_id text not null, order_id text not null, total numeric not null)`);
  return {
    pool,
    async drop() {
      await pool.end();
      if (!process.argv.includes('--keep')) await s.admin(`drop database if exists ${DATABASE} with (force)`);
    },
  };
}

/** Runs the library on `source` until EVENTS were handled; resolves with the rate. */
async function inboxRate(database, name, source) {
  const counter = drain(`inbox ${name}`);
  const consumer = createConsumer({
    name,
    pool: database.pool,
    source,
    concurrency: CONCURRENCY,
    handler: async (event, tx) => {
      await tx.query('insert into handled (event_id, order_id, total) values ($1, $2, $3)', [
        event.eventId,
        event.data.order_id,
        event.data.total,
      ]);
    },
    afterCommit: (_event, outcome) => outcome === 'handled' && counter.arrived(),
  });
  await consumer.start();
  try {
    return await counter.done;
  } finally {
    await consumer.stop();
  }
}

async function rabbitmq(database) {
  const exchange = `bench-consumer-${Date.now()}`;
  const connection = await amqp.connect(s.AMQP_URL);
  const channel = await connection.createConfirmChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  for (const queue of [`${exchange}.ack`, `${exchange}.inbox`]) {
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, exchange, '#');
  }
  try {
    for (const message of messages(exchange)) {
      const p = toAmqpPublish(message);
      channel.publish(p.exchange, p.routingKey, p.content, p.options);
    }
    await channel.waitForConfirms();

    const ackOnly = drain('ack only');
    const reader = await connection.createChannel();
    await reader.prefetch(PREFETCH);
    await reader.consume(`${exchange}.ack`, (message) => {
      reader.ack(message);
      ackOnly.arrived();
    });
    const ackRate = await ackOnly.done;
    await reader.close();

    const source = {
      broker: 'rabbitmq',
      url: s.AMQP_URL,
      queue: `${exchange}.inbox`,
      prefetch: PREFETCH,
      lagIntervalMs: 0,
    };
    const inbox = await inboxRate(database, 'bench-rabbitmq', source);
    return { ackRate, inbox };
  } finally {
    await channel.deleteQueue(`${exchange}.ack`);
    await channel.deleteQueue(`${exchange}.inbox`);
    await channel.deleteExchange(exchange);
    await connection.close();
  }
}

async function kafka(database) {
  const topic = `bench-consumer-${Date.now()}`;
  const { kafka: client, remove } = await s.kafkaTopic(topic);
  try {
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const all = messages(topic);
    for (let i = 0; i < all.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: all.slice(i, i + 500).map(toKafkaMessage) });
    }
    await producer.disconnect();

    const ackOnly = drain('ack only');
    const reader = client.consumer({ groupId: `${topic}-ack`, maxWaitTimeInMs: 100 });
    await reader.connect();
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({ partitionsConsumedConcurrently: 3, eachMessage: async () => ackOnly.arrived() });
    const ackRate = await ackOnly.done;
    await reader.disconnect();

    const source = { broker: 'kafka', brokers: s.KAFKA_BROKERS, topic, groupId: `${topic}-inbox` };
    const inbox = await inboxRate(database, 'bench-kafka', source);
    return { ackRate, inbox };
  } finally {
    await remove();
  }
}

async function main() {
  s.requireLoopback();
  console.log(s.describeMachine());
  console.log(
    `\n${EVENTS} events (1 KB order.created, ${KEYS} keys); library: concurrency ${CONCURRENCY}, prefetch ${PREFETCH}, ordering by key\n`,
  );
  const database = await consumerDatabase();
  const rows = [];
  try {
    for (const broker of BROKERS) {
      const { ackRate, inbox } = broker === 'kafka' ? await kafka(database) : await rabbitmq(database);
      rows.push([broker, s.fixed(ackRate, 0), s.fixed(inbox, 0), `${s.fixed(inbox / ackRate, 2)}x`]);
    }
  } finally {
    await database.drop();
  }
  console.log(s.table(['broker', 'ack only (events/s)', 'through the inbox (events/s)', 'ratio'], rows));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
