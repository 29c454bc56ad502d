#!/usr/bin/env node
// How does the relay scale with replicas, and what does outbox.ordering = partition_key cost?
//
// Seeds EVENTS events spread over KEYS partition keys (in per-key sequence order: all keys'
// first events, then all second events, ...) and times how long REPLICAS relay processes take
// to publish them all to RabbitMQ, for each replica count in REPLICAS and with ordering none
// and partition_key, in rotating order, RUNS times each; prints the medians side by side.
//
// Run by hand, after a build (`npx tsc -b`), against loopback services only:
//   node bench/relay-scaling.js
//   EVENTS=50000 KEYS=1000 RUNS=3 BATCH=500 CONCURRENCY=2 REPLICAS=1,2,4 node bench/relay-scaling.js [--keep]
// BENCH_DATABASE_URL and BENCH_AMQP_URL name the servers (default: the local ones).
// Bounded: a fixed number of events and runs, each drain given at most DRAIN_TIMEOUT_MS. It
// creates and (unless --keep) drops its own database, orchestron_bench_relay_scaling; the
// exchanges it publishes to are deleted at the end, its queue goes with its connection.
'use strict';

const { randomBytes } = require('node:crypto');
const {
  AMQP_URL,
  describeMachine,
  fromPackage,
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

const amqplib = fromPackage('amqplib', 'packages/broker-rabbitmq');

/** A queue bound to `exchange` that counts and drops what arrives (the broker must route it). */
async function sink(channel, exchange) {
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
  await channel.bindQueue(queue, exchange, '#');
  const counter = { received: 0 };
  await channel.consume(queue, () => counter.received++, { noAck: true });
  return counter;
}

/** EVENTS events over KEYS keys, payload {key, seq}, outbox ids rising with seq per key. */
async function seed(knex, exchange) {
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
       select id, 'rabbitmq', ?, 'bench.keyed', 'k' || k from e order by seq, k`,
      [perKey, KEYS, EVENTS, exchange],
    );
    await trx.raw(`select pg_notify('orchestron_outbox', '')`);
  });
}

async function pending(knex) {
  const result = await knex.raw(`select count(*)::int as n from outbox where status = 'pending'`);
  return result.rows[0].n;
}

/** One drain: relays started and idle, seed, time until every row is published. */
async function drain(database, channel, mode, replicas) {
  await database.knex.raw('truncate events, dead_letter_queue cascade');
  const exchange = `orchestron_bench_${randomBytes(4).toString('hex')}`;
  const counter = await sink(channel, exchange);
  const relays = await Promise.all(
    Array.from({ length: replicas }, () =>
      startApp('relay', {
        DATABASE_URL: database.url,
        AMQP_URL,
        ORCHESTRON_BROKER_TYPE: 'rabbitmq',
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
    await seed(database.knex, exchange);
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while ((await pending(database.knex)) > 0) {
      if (Date.now() > deadline) throw new Error(`${mode}: not drained within ${DRAIN_TIMEOUT_MS} ms`);
      await sleep(50);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Published means confirmed by RabbitMQ, so the queue has them or is about to.
    const settle = Date.now() + 10_000;
    while (counter.received < EVENTS && Date.now() < settle) await sleep(50);
    if (counter.received < EVENTS) throw new Error(`${mode}: the queue received ${counter.received} of ${EVENTS}`);
    return seconds;
  } finally {
    await Promise.all(relays.map((r) => r.stop()));
    await channel.deleteExchange(exchange);
  }
}

async function main() {
  requireLoopback();
  console.error(describeMachine());
  console.error(
    `${EVENTS} events over ${KEYS} keys, ${REPLICAS.join(' / ')} relay(s) x ${CONCURRENCY} loops, batch ${BATCH}, ${RUNS} runs per cell`,
  );
  const database = await scratchDatabase('orchestron_bench_relay_scaling');
  const connection = await amqplib.connect(AMQP_URL);
  const channel = await connection.createChannel();
  const cells = REPLICAS.flatMap((replicas) => MODES.map((mode) => ({ replicas, mode, seconds: [] })));
  try {
    for (let run = 0; run < RUNS; run++) {
      // Rotate the order of the cells, so drift (caches, autovacuum, other load) hits all alike.
      for (let k = 0; k < cells.length; k++) {
        const cell = cells[(k + run) % cells.length];
        const s = await drain(database, channel, cell.mode, cell.replicas);
        cell.seconds.push(s);
        console.error(`  run ${run + 1}, ${cell.replicas} relay(s), ordering ${cell.mode}: ${s.toFixed(2)} s`);
      }
    }
  } finally {
    await connection.close().catch(() => undefined);
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
