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
// message (by the event id: AMQP messageId, Kafka ce_id header; one clock, the system's monotonic
// one; the consumer runs in a worker thread, bench/e2e-consumer.js, off the requests' loop). Relay
// settings are the defaults (batch 100, two claim loops, woken by ingest's NOTIFY).
//
// Run by hand, after a build (`npx tsc -b`), against loopback services only:
//   node bench/e2e-latency.js
//   RATE=200 DURATION=20 BROKERS=rabbitmq,kafka node bench/e2e-latency.js [--keep]
//   INGEST_MAIN=/copy/of/apps/ingest/dist/main.js node bench/e2e-latency.js   # an earlier ingest build
// Bounded: per broker (WARMUP + DURATION) x RATE events, then at most 30 s waiting for stragglers. Creates
// and (unless --keep) drops its own database, orchestron_bench_e2e; deletes its queues,
// exchanges and topics.
'use strict';

const { randomBytes } = require('node:crypto');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const s = require('./support');
const DATABASE = 'orchestron_bench_e2e';
const RATE = Number(process.env.RATE ?? 200);
const DURATION = Number(process.env.DURATION ?? 20);
// Ten seconds, as in bench/ingest.js: the first seconds of a fresh process (V8's and the broker
// JVM's JIT compiling new paths, a new topic's first fetches) are not the steady state.
const WARMUP = Number(process.env.WARMUP ?? 10);
const BROKERS = (process.env.BROKERS ?? 'rabbitmq,kafka').split(',');
const INGEST_MAIN = process.env.INGEST_MAIN;

// The system's monotonic clock, as in the consumer's thread.
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
  const consumer = await startConsumer(broker, destination, (id, at) => {
    received += 1;
    if (!receivedAt.has(id)) receivedAt.set(id, at);
  });
  let ingest = null;
  let relay = null;
  try {
    const apiKey = await s.createApiKey(database.knex);
    ingest = await s.startApp(
      'ingest',
      {
        DATABASE_URL: database.url,
        ORCHESTRON_API_RATE_LIMIT: '1000000',
        ORCHESTRON_BROKER_TYPE: broker,
        ...(broker === 'rabbitmq'
          ? { ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: destination }
          : { ORCHESTRON_ROUTING_DEFAULT_TOPIC: destination }),
      },
      INGEST_MAIN ? { main: INGEST_MAIN } : {},
    );
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

/**
 * The consumer, in a worker thread (bench/e2e-consumer.js) so that its decoding does not delay
 * this thread's requests; `onMessage(id, at)` per received message, `close` deletes what it made.
 */
async function startConsumer(broker, destination, onMessage) {
  const worker = new Worker(path.join(__dirname, 'e2e-consumer.js'), { workerData: { broker, destination } });
  await new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (message) => {
      if (message.ready) resolve();
      else if (message.failed) reject(new Error(`the ${broker} consumer failed: ${message.failed}`));
      else if (message.id !== undefined) onMessage(message.id, message.at);
    });
  });
  return {
    async close() {
      const closed = new Promise((resolve) => worker.on('message', (message) => message.closed && resolve(message)));
      worker.postMessage({ close: true });
      const { error } = await closed;
      await worker.terminate();
      if (error) throw new Error(`closing the ${broker} consumer: ${error}`);
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
