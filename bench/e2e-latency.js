#!/usr/bin/env node
// End-to-end latency at a steady rate: HTTP 202 from ingest to receipt by a consumer of
// RabbitMQ or Kafka.
//
// For each broker in BROKERS: starts the built ingest and relay (apps/*/dist) on a scratch
// database, binds a fresh queue to a fresh exchange (RabbitMQ) or creates a fresh 3-partition
// topic (Kafka) with a consumer on it, and POSTs 1 KB order.created events (full path: API key,
// rate limit high, schema validation) open loop at RATE per second for DURATION seconds: each
// request is sent on its schedule whether or not earlier ones have been answered. Per event it
// records when the request was sent, when the 202 arrived and when the consumer received the
// message (by the event id: AMQP messageId, Kafka ce_id header; one clock, this process). Relay
// settings are the defaults (batch 100, two claim loops, woken by ingest's NOTIFY).
//
// Run by hand, after a build (`npx tsc -b`), against loopback services only:
//   node bench/e2e-latency.js
//   RATE=200 DURATION=20 BROKERS=rabbitmq,kafka node bench/e2e-latency.js [--keep]
// Bounded: per broker RATE x DURATION events, then at most 30 s waiting for stragglers. Creates
// and (unless --keep) drops its own database, orchestron_bench_e2e; deletes its queues,
// exchanges and topics.
'use strict';

const { randomBytes } = require('node:crypto');
const s = require('./support');

const amqp = s.fromPackage('amqplib', 'packages/broker-rabbitmq');
const { Kafka, logLevel } = s.fromPackage('kafkajs', 'packages/broker-kafka');
const DATABASE = 'orchestron_bench_e2e';
const RATE = Number(process.env.RATE ?? 200);
const DURATION = Number(process.env.DURATION ?? 20);
const WARMUP = Number(process.env.WARMUP ?? 2);
const BROKERS = (process.env.BROKERS ?? 'rabbitmq,kafka').split(',');

const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  s.requireLoopback();
  console.error(s.describeMachine());
  const results = [];
  for (const broker of BROKERS) results.push(await measure(broker));
  report(results);
}

/** One broker: a consumer on a fresh destination, ingest and relay, the paced requests. */
async function measure(broker) {
  const destination = `orchestron_bench_${randomBytes(4).toString('hex')}`;
  const database = await s.scratchDatabase(DATABASE);
  const receivedAt = new Map();
  let received = 0;
  const consumer = await (broker === 'rabbitmq' ? consumeRabbitMq : consumeKafka)(destination, (id) => {
    const at = now();
    received += 1;
    if (!receivedAt.has(id)) receivedAt.set(id, at);
  });
  let ingest = null;
  let relay = null;
  try {
    const apiKey = await s.createApiKey(database.knex);
    ingest = await s.startApp('ingest', {
      DATABASE_URL: database.url,
      ORCHESTRON_API_RATE_LIMIT: '1000000',
      ORCHESTRON_BROKER_TYPE: broker,
      ...(broker === 'rabbitmq'
        ? { ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: destination }
        : { ORCHESTRON_ROUTING_DEFAULT_TOPIC: destination }),
    });
    relay = await s.startApp('relay', {
      DATABASE_URL: database.url,
      ORCHESTRON_BROKER_TYPE: broker,
      ...(broker === 'rabbitmq'
        ? { AMQP_URL: s.AMQP_URL, ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: destination }
        : { KAFKA_BROKERS: s.KAFKA_BROKERS.join(','), ORCHESTRON_ROUTING_DEFAULT_TOPIC: destination }),
    });
    const rss = { ingest: s.sampleRss(ingest.pid), relay: s.sampleRss(relay.pid) };

    const body = JSON.stringify(s.orderEvent(0));
    const post = async () => {
      const sentAt = now();
      const response = await fetch(`${ingest.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body,
      });
      const acceptedAt = now();
      if (response.status !== 202) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
      const { id } = await response.json();
      return { id, sentAt, acceptedAt };
    };

    // Warm-up at the same rate, not measured.
    await paced(WARMUP * RATE, post);
    const sent = await paced(DURATION * RATE, post);
    const deadline = Date.now() + 30_000;
    while (sent.some((e) => !receivedAt.has(e.id)) && Date.now() < deadline) await s.sleep(50);

    const fromAccepted = [];
    const fromSent = [];
    const http = [];
    let missing = 0;
    for (const e of sent) {
      const at = receivedAt.get(e.id);
      http.push(e.acceptedAt - e.sentAt);
      if (at === undefined) missing += 1;
      else {
        fromAccepted.push(at - e.acceptedAt);
        fromSent.push(at - e.sentAt);
      }
    }
    const result = {
      broker,
      events: sent.length,
      missing,
      duplicates: received - receivedAt.size,
      lateStart: sent.lateStart,
      fromAccepted,
      fromSent,
      http,
      rss: { ingest: rss.ingest.peak(), relay: rss.relay.peak() },
    };
    rss.ingest.stop();
    rss.relay.stop();
    return result;
  } finally {
    await ingest?.stop();
    await relay?.stop();
    await consumer.close();
    await database.drop();
  }
}

/** A durable queue bound with '#' to a fresh exchange, consumed; `close` deletes both. */
async function consumeRabbitMq(exchange, onMessage) {
  const connection = await amqp.connect(s.AMQP_URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(exchange, { durable: true });
  await channel.bindQueue(exchange, exchange, '#');
  await channel.prefetch(1000);
  await channel.consume(exchange, (message) => {
    if (!message) return;
    onMessage(message.properties.messageId);
    channel.ack(message);
  });
  return {
    async close() {
      await channel.deleteQueue(exchange);
      await channel.deleteExchange(exchange);
      await connection.close();
    },
  };
}

/** A fresh 3-partition topic and a consumer reading it from the start; `close` deletes the topic. */
async function consumeKafka(topic, onMessage) {
  const kafka = new Kafka({ clientId: 'orchestron-bench', brokers: s.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  const consumer = kafka.consumer({ groupId: topic, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
  await consumer.run({
    eachMessage: async ({ message }) => onMessage(message.headers?.ce_id?.toString()),
  });
  await joined;
  return {
    async close() {
      await consumer.disconnect();
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
    },
  };
}

/** Calls `send` `count` times at RATE per second, open loop; resolves with every result. */
async function paced(count, send) {
  const interval = 1000 / RATE;
  const started = now();
  const calls = [];
  let lateStart = 0;
  for (let i = 0; i < count; i++) {
    const due = started + i * interval;
    const wait = due - now();
    if (wait > 1) await s.sleep(wait);
    else if (wait < -interval) lateStart += 1;
    calls.push(send());
  }
  const results = await Promise.all(calls);
  results.lateStart = lateStart;
  return results;
}

function report(results) {
  const row = (broker, label, values) => [
    broker,
    label,
    `${s.fixed(s.percentile(values, 50), 2)} ms`,
    `${s.fixed(s.percentile(values, 99), 2)} ms`,
    `${s.fixed(Math.max(...values), 2)} ms`,
  ];
  console.log(
    [
      s.describeMachine(),
      `events at ${RATE}/s for ${DURATION} s per broker (after ${WARMUP} s of warm-up), 1 KB order.created, ingest -> relay (defaults) -> broker -> consumer`,
      '',
      s.table(
        ['broker', 'interval', 'p50', 'p99', 'max'],
        results.flatMap((r) => [
          row(r.broker, 'HTTP 202 -> consumer receipt', r.fromAccepted),
          row(r.broker, 'request sent -> consumer receipt', r.fromSent),
          row(r.broker, 'request sent -> HTTP 202', r.http),
        ]),
      ),
      '',
      ...results.map(
        (r) =>
          `${r.broker}: ${r.events} events, missing ${r.missing}, duplicates ${r.duplicates}, requests sent more than one interval late ${r.lateStart}; ` +
          `peak RSS ingest ${s.mb(r.rss.ingest)}, relay ${s.mb(r.rss.relay)}`,
      ),
      'targets: HTTP 202 -> receipt p50 <= 5 ms, p99 <= 20 ms',
    ].join('\n'),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
