#!/usr/bin/env node
// How does the relay scale with replicas, and what does outbox.ordering = partition_key cost?
//
// Seeds EVENTS events spread over KEYS partition keys (in per-key sequence order: all keys'
// first events, then all second events, ...) and times how long REPLICAS relay processes take
// to publish them all to BROKER (rabbitmq, the default, or kafka), for each replica count in
// REPLICAS and with ordering none and partition_key, in rotating order, RUNS times each;
// prints the medians side by side.
//
// Run by hand, after a build (`npx tsc -b`), against loopback services only:
//   node bench/relay-scaling.js
//   EVENTS=50000 KEYS=1000 RUNS=3 BATCH=500 CONCURRENCY=2 REPLICAS=1,2,4 node bench/relay-scaling.js [--keep]
//   BROKER=kafka node bench/relay-scaling.js
// BENCH_DATABASE_URL, BENCH_AMQP_URL and BENCH_KAFKA_BROKERS name the servers (default: the
// local ones).
// Bounded: a fixed number of events and runs, each drain given at most DRAIN_TIMEOUT_MS. It
// creates and (unless --keep) drops its own database, orchestron_bench_relay_scaling; the
// exchanges and topics it publishes to are deleted after each drain, its queues go with their
// connection.
'use strict';

const { randomBytes } = require('node:crypto');
const {
  AMQP_URL,
  KAFKA_BROKERS,
  describeMachine,
  fromPackage,
  kafkaTopic,
  median,
  requireLoopback,
  scratchDatabase,
  sleep,
  startApp,
  table,
} = require('./support');

const EVENTS = Number(process.env.EVENTS ?? 50_000);
const KEYS = Number(process.env.KEYS ?? 1_000);
const RUNS = Number(process.env.RUNS ?? 3);
const BATCH = Number(process.env.BATCH ?? 500);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 2);
const REPLICAS = (process.env.REPLICAS ?? '1,2,4').split(',').map(Number);
const DRAIN_TIMEOUT_MS = Number(process.env.DRAIN_TIMEOUT_MS ?? 300_000);
const MODES = ['none', 'partition_key'];
const BROKER = process.env.BROKER ?? 'rabbitmq';
// Partitions of each Kafka topic: enough for the keys to spread over, as a real topic would.
const KAFKA_PARTITIONS = 6;

const amqplib = fromPackage('amqplib', 'packages/broker-rabbitmq');

/**
 * Where a drain publishes to, and how many messages it holds: RabbitMQ, a queue bound to a
 * fresh exchange that counts and drops what arrives (the broker must route it); Kafka, a fresh
 * topic whose partitions' end offsets add up to what was written.
 */
async function rabbitMqSink(channel, destination) {
  await channel.assertExchange(destination, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
  await channel.bindQueue(queue, destination, '#');
  let received = 0;
  await channel.consume(queue, () => received++, { noAck: true });
  return { received: async () => received, remove: () => channel.deleteExchange(destination) };
}

async function kafkaSink(destination) {
  const { admin, remove } = await kafkaTopic(destination, KAFKA_PARTITIONS);
  return {
    received: async () =>
      (await admin.fetchTopicOffsets(destination)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0),
    remove,
  };
}

/** The broker's client for the whole run (RabbitMQ: one channel): `sink(destination)` per drain, `close` at the end. */
async function connectBroker() {
  if (BROKER === 'kafka') return { sink: kafkaSink, close: async () => undefined };
  if (BROKER !== 'rabbitmq') throw new Error(`BROKER must be rabbitmq or kafka, not ${BROKER}`);
  const connection = await amqplib.connect(AMQP_URL);
  const channel = await connection.createChannel();
  return { sink: (destination) => rabbitMqSink(channel, destination), close: () => connection.close() };
}

/** EVENTS events over KEYS keys, payload {key, seq}, outbox ids rising with seq per key. */
async function seed(knex, destination) {
  const perKey = Math.ceil(EVENTS / KEYS);
  await knex.transaction(async (trx) => {
    await trx.raw(
      `with e as (
         insert into events (id, source, type, payload, headers)
         select gen_random_uuid(), 'bench', 'bench.keyed', jsonb_build_object('key', 'k' || k, 'seq', s),
                '{"content-type": "application/json"}'
         from generate_series(1, ?) s cross join generate_series(1, ?) k
         limit ?
         returning id, (payload ->> 'seq')::int as seq, substr(payload ->> 'key', 2)::int as k
       )
       insert into outbox (event_id, broker, destination, routing_key, partition_key)
       select id, ?, ?, 'bench.keyed', 'k' || k from e order by seq, k`,
      [perKey, KEYS, EVENTS, BROKER, destination],
    );
    await trx.raw(`select pg_notify('orchestron_outbox', '')`);
  });
}

async function pending(knex) {
  const result = await knex.raw(`select count(*)::int as n from outbox where status = 'pending'`);
  return result.rows[0].n;
}

/** One drain: relays started and idle, seed, time until every row is published. */
async function drain(database, broker, mode, replicas) {
  await database.knex.raw('truncate events, dead_letter_queue cascade');
  const destination = `orchestron_bench_${randomBytes(4).toString('hex')}`;
  const sink = await broker.sink(destination);
  const relays = await Promise.all(
    Array.from({ length: replicas }, () =>
      startApp('relay', {
        DATABASE_URL: database.url,
        ...(BROKER === 'kafka' ? { KAFKA_BROKERS: KAFKA_BROKERS.join(',') } : { AMQP_URL }),
        ORCHESTRON_BROKER_TYPE: BROKER,
        ORCHESTRON_LOG_LEVEL: 'warn',
        ORCHESTRON_OUTBOX_ORDERING: mode,
        ORCHESTRON_OUTBOX_BATCH_SIZE: String(BATCH),
        ORCHESTRON_OUTBOX_CONCURRENCY: String(CONCURRENCY),
        ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '1s',
      }),
    ),
  );
  try {
    await sleep(500);
    const started = process.hrtime.bigint();
    await seed(database.knex, destination);
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while ((await pending(database.knex)) > 0) {
      if (Date.now() > deadline) throw new Error(`${mode}: not drained within ${DRAIN_TIMEOUT_MS} ms`);
      await sleep(50);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Published means acknowledged by the broker, so the destination has them or is about to.
    const settle = Date.now() + 10_000;
    let received = await sink.received();
    while (received < EVENTS && Date.now() < settle) {
      await sleep(50);
      received = await sink.received();
    }
    if (received < EVENTS) throw new Error(`${mode}: ${BROKER} holds ${received} of ${EVENTS} messages`);
    return seconds;
  } finally {
    await Promise.all(relays.map((r) => r.stop()));
    await sink.remove();
  }
}

async function main() {
  requireLoopback();
  console.error(describeMachine());
  console.error(
    `${EVENTS} events over ${KEYS} keys to ${BROKER}, ${REPLICAS.join(' / ')} relay(s) x ${CONCURRENCY} loops, batch ${BATCH}, ${RUNS} runs per cell`,
  );
  const database = await scratchDatabase('orchestron_bench_relay_scaling');
  const broker = await connectBroker();
  const cells = REPLICAS.flatMap((replicas) => MODES.map((mode) => ({ replicas, mode, seconds: [] })));
  try {
    for (let run = 0; run < RUNS; run++) {
      // Rotate the order of the cells, so drift (caches, autovacuum, other load) hits all alike.
      for (let k = 0; k < cells.length; k++) {
        const cell = cells[(k + run) % cells.length];
        const s = await drain(database, broker, cell.mode, cell.replicas);
        cell.seconds.push(s);
        console.error(`  run ${run + 1}, ${cell.replicas} relay(s), ordering ${cell.mode}: ${s.toFixed(2)} s`);
      }
    }
  } finally {
    await broker.close().catch(() => undefined);
    await database.drop();
  }
  const medianOf = (replicas, mode) => median(cells.find((c) => c.replicas === replicas && c.mode === mode).seconds);
  console.log(
    table(
      [
        'relays',
        'outbox.ordering',
        'drain times (s)',
        'median (s)',
        'events/s',
        `vs ${REPLICAS[0]} relay(s)`,
        'vs none',
      ],
      cells.map(({ replicas, mode, seconds }) => {
        const m = median(seconds);
        return [
          `${replicas} x ${CONCURRENCY} loops`,
          mode,
          seconds.map((s) => s.toFixed(2)).join(', '),
          m.toFixed(2),
          Math.round(EVENTS / m).toLocaleString('en-US'),
          `${(medianOf(REPLICAS[0], mode) / m).toFixed(2)}x`,
          `${(m / medianOf(replicas, 'none')).toFixed(2)}x`,
        ];
      }),
    ),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
