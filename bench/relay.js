#!/usr/bin/env node
// Relay drain rate beside the raw publishing limit of the same client library, in the same run.
//
// For each broker (RabbitMQ, Kafka) and each relay configuration (batch size x claim loops):
//   1. writes a backlog of EVENTS pending events (1 KB order.created payloads, headers as
//      ingest stores them) with their outbox rows into a scratch database;
//   2. starts the built relay (apps/relay/dist) and times the drain: outbox rows per second
//      between the first and the last claim (published_at), and the wall time from the
//      relay's start until nothing is pending; its RSS is sampled throughout;
//   3. publishes the same messages (same payload bytes, same headers, mapped by the adapters'
//      own toAmqpPublish / toKafkaMessage) with the client library alone, no database, in
//      batches of the same size: amqplib on a confirm channel, waiting for the batch's
//      confirms; each Kafka client of KAFKA_CLIENTS (default kafkajs and @platformatic/kafka,
//      bench/kafka-raw.js) with the relay's producer settings (idempotent, acks all), one
//      send() per batch, so the relay is compared with every candidate in the same run.
// Every destination is a fresh exchange + durable queue bound with '#' (so messages are
// routable, as in production), or a fresh 3-partition topic; all are deleted at the end.
//
// Run by hand, after a build (`npx tsc -b`), against loopback services only:
//   node bench/relay.js
//   EVENTS=200000 BROKERS=rabbitmq,kafka CONFIGS=100x1,500x2 ROUNDS=1 node bench/relay.js [--keep]
//   KAFKA_CLIENTS=kafkajs,platformatic BROKERS=kafka node bench/relay.js
// Bounded: EVENTS per drain, each drain given at most MAX_DRAIN_SECONDS (default 300).
// About 3 minutes with the defaults (EVENTS=50000). EVENTS=1000000 CONFIGS=100x1 BROKERS=rabbitmq
// is the memory run (relay RSS over a 1M backlog).
'use strict';

const { randomBytes } = require('node:crypto');
const s = require('./support');

const amqp = s.fromPackage('amqplib', 'packages/broker-rabbitmq');
const { toAmqpPublish } = require(`${s.repo}/packages/broker-rabbitmq/dist`);
const { rawKafkaPublishers } = require('./kafka-raw');

const DATABASE = 'orchestron_bench_relay';
const EVENTS = Number(process.env.EVENTS ?? 50_000);
const BROKERS = (process.env.BROKERS ?? 'rabbitmq,kafka').split(',');
const CONFIGS = (process.env.CONFIGS ?? '100x1,500x2').split(',').map((c) => {
  const [batch, loops] = c.split('x').map(Number);
  return { batch, loops };
});
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const KAFKA_CLIENTS = (process.env.KAFKA_CLIENTS ?? 'kafkajs,platformatic').split(',').filter(Boolean);
const MAX_DRAIN_SECONDS = Number(process.env.MAX_DRAIN_SECONDS ?? 300);
const PARTITIONS = 3;
/** Shares of the backlog drained at which the relay's RSS is reported. */
const PROGRESS_POINTS = [0.1, 0.25, 0.5, 0.75, 1];

async function main() {
  s.requireLoopback();
  console.error(s.describeMachine());
  console.error(
    `backlog ${EVENTS}; brokers ${BROKERS.join(', ')}; configs ${CONFIGS.map((c) => `${c.batch}x${c.loops}`).join(', ')}`,
  );
  const database = await s.scratchDatabase(DATABASE);
  const results = [];
  const cleanups = [];
  try {
    const payload = await samplePayload(database.knex);
    for (const broker of BROKERS) {
      for (const config of CONFIGS) {
        const relayRuns = [];
        const rawRuns = [];
        for (let round = 0; round < ROUNDS; round++) {
          const destination = `orchestron_bench_${randomBytes(4).toString('hex')}`;
          const target = await (broker === 'rabbitmq'
            ? s.exchangeWithQueue(destination)
            : s.kafkaTopic(destination, PARTITIONS));
          cleanups.push(target.remove);
          const raw = await publishRaw(broker, destination, payload, config.batch);
          rawRuns.push(raw);
          for (const [client, perSecond] of Object.entries(raw)) {
            console.error(`  ${broker} ${config.batch}x${config.loops} raw ${client}: ${s.fixed(perSecond)} msg/s`);
          }
          // The relay starts on an empty queue too: a queue holding the raw run's messages makes
          // RabbitMQ page them to disk while the relay publishes.
          if (broker === 'rabbitmq') await target.channel.purgeQueue(destination);
          await s.seedBacklog(database.knex, { events: EVENTS, broker, destination });
          const relay = await drain(database, broker, destination, config);
          relayRuns.push(relay);
          console.error(
            `  ${broker} ${config.batch}x${config.loops} relay: ${s.fixed(relay.perSecond)} msg/s, wall ${s.fixed(relay.wallSeconds, 1)} s, RSS ${s.mb(relay.rssStart)} -> peak ${s.mb(relay.rssPeak)}, end ${s.mb(relay.rssEnd)}; at ${PROGRESS_POINTS.map((p) => `${p * 100}%`).join('/')} drained: ${relay.rssByShare.map((b) => s.mb(b)).join(' / ')}`,
          );
        }
        results.push({
          broker,
          config,
          relay: s.median(relayRuns.map((r) => r.perSecond)),
          wall: s.median(relayRuns.map((r) => r.wallSeconds)),
          raw: Object.fromEntries(
            Object.keys(rawRuns[0]).map((client) => [client, s.median(rawRuns.map((r) => r[client]))]),
          ),
          rssStart: s.median(relayRuns.map((r) => r.rssStart)),
          rssPeak: s.median(relayRuns.map((r) => r.rssPeak)),
          rssEnd: s.median(relayRuns.map((r) => r.rssEnd)),
          rssByShare: PROGRESS_POINTS.map((_, i) => s.median(relayRuns.map((r) => r.rssByShare[i]))),
        });
      }
    }
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error) => console.error(`cleanup: ${error.message}`));
    await database.drop();
  }
  report(results);
}

/** The payload bytes the relay will publish: Postgres's text of the stored jsonb. */
async function samplePayload(knex) {
  const { rows } = await knex.raw(`select ?::jsonb::text as text`, [JSON.stringify(s.orderEvent(0).data)]);
  return Buffer.from(rows[0].text, 'utf8');
}

/** Starts the relay on the backlog and waits until nothing is pending. */
async function drain(database, broker, destination, config) {
  const env = {
    DATABASE_URL: database.url,
    ORCHESTRON_BROKER_TYPE: broker,
    ORCHESTRON_OUTBOX_BATCH_SIZE: String(config.batch),
    ORCHESTRON_OUTBOX_CONCURRENCY: String(config.loops),
    ORCHESTRON_OUTBOX_STATS_INTERVAL: '10s',
    ...(broker === 'rabbitmq'
      ? { AMQP_URL: s.AMQP_URL, ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: destination }
      : { KAFKA_BROKERS: s.KAFKA_BROKERS.join(','), ORCHESTRON_ROUTING_DEFAULT_TOPIC: destination }),
  };
  const started = Date.now();
  const relay = await s.startApp('relay', env);
  const rssStart = s.rssOf(relay.pid);
  const rss = s.sampleRss(relay.pid);
  try {
    const deadline = Date.now() + MAX_DRAIN_SECONDS * 1000;
    // RSS by share of the backlog drained: flat memory shows as the same figure at 10% and 100%.
    const rssByProgress = [];
    for (;;) {
      const { rows } = await database.knex.raw(`select count(*)::int as n from outbox where status = 'pending'`);
      rssByProgress.push({ drained: 1 - rows[0].n / EVENTS, rss: s.rssOf(relay.pid) });
      if (rows[0].n === 0) break;
      if (Date.now() > deadline)
        throw new Error(`relay did not drain ${EVENTS} within ${MAX_DRAIN_SECONDS} s (${rows[0].n} pending)`);
      await s.sleep(100);
    }
    const wallSeconds = (Date.now() - started) / 1000;
    const rssEnd = s.rssOf(relay.pid);
    const { rows } = await database.knex.raw(
      `select extract(epoch from max(published_at) - min(published_at))::float8 as span,
              count(*) filter (where published_at = (select max(published_at) from outbox))::int as last_batch,
              count(*) filter (where status = 'published')::int as published
       from outbox`,
    );
    const { span, last_batch: lastBatch, published } = rows[0];
    if (published !== EVENTS) throw new Error(`${published} of ${EVENTS} published`);
    const rssAt = (share) => rssByProgress.find((p) => p.drained >= share)?.rss ?? NaN;
    return {
      perSecond: (EVENTS - lastBatch) / span,
      wallSeconds,
      rssStart,
      rssPeak: rss.peak(),
      rssEnd,
      rssByShare: PROGRESS_POINTS.map(rssAt),
    };
  } finally {
    rss.stop();
    await relay.stop();
  }
}

/** Messages per second of each raw client, by client name. */
async function publishRaw(broker, destination, payload, batchSize) {
  const messages = s.outboundMessages(EVENTS, destination, payload);
  if (broker === 'rabbitmq') return { amqplib: (await rawAmqp(messages, batchSize)).perSecond };
  const rates = {};
  for (const client of KAFKA_CLIENTS) {
    const publish = rawKafkaPublishers[client];
    if (!publish) throw new Error(`unknown Kafka client ${client} (KAFKA_CLIENTS)`);
    rates[client] = (await publish(destination, messages, batchSize)).perSecond;
  }
  return rates;
}

/** amqplib alone: a confirm channel, each batch published then its confirms awaited. */
async function rawAmqp(messages, batchSize) {
  const connection = await amqp.connect(s.AMQP_URL);
  try {
    const channel = await connection.createConfirmChannel();
    const started = process.hrtime.bigint();
    for (let i = 0; i < messages.length; i += batchSize) {
      for (const message of messages.slice(i, i + batchSize)) {
        const p = toAmqpPublish(message);
        if (!channel.publish(p.exchange, p.routingKey, p.content, p.options)) {
          await new Promise((resolve) => channel.once('drain', resolve));
        }
      }
      await channel.waitForConfirms();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { perSecond: messages.length / seconds };
  } finally {
    await connection.close();
  }
}

/** A topic exchange with a durable queue bound to it with '#'; returns its cleanup. */
function report(results) {
  // Issue #15's targets: relay / raw confirmed publishing (RabbitMQ), relay / raw kafkajs batches (Kafka).
  const targets = { rabbitmq: 0.85, kafka: 0.8 };
  console.log(
    [
      s.describeMachine(),
      `drain of a ${EVENTS}-event backlog (1 KB payloads), median of ${ROUNDS} run(s); relay rate = outbox rows per second between its first and last claim; wall = relay start to nothing pending`,
      '',
      s.table(
        [
          'broker',
          'batch x loops',
          'relay msg/s',
          'relay wall',
          'raw client msg/s (same batches)',
          'relay / raw',
          'target',
          'relay RSS start / peak / end',
          `relay RSS at ${PROGRESS_POINTS.map((p) => `${p * 100}%`).join(' / ')} drained`,
        ],
        results.map((r) => [
          r.broker,
          `${r.config.batch} x ${r.config.loops}`,
          s.fixed(r.relay),
          `${s.fixed(r.wall, 1)} s`,
          Object.entries(r.raw)
            .map(([client, perSecond]) => `${client} ${s.fixed(perSecond)}`)
            .join(', '),
          Object.entries(r.raw)
            .map(([client, perSecond]) => `${s.fixed(r.relay / perSecond, 2)}x ${client}`)
            .join(', '),
          `>= ${targets[r.broker]}x`,
          `${s.mb(r.rssStart)} / ${s.mb(r.rssPeak)} / ${s.mb(r.rssEnd)}`,
          r.rssByShare.map((b) => s.mb(b)).join(' / '),
        ]),
      ),
    ].join('\n'),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
