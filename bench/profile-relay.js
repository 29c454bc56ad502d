#!/usr/bin/env node
// Where do the relay and the services around it spend their CPU while draining a backlog?
// Seeds EVENTS pending events (as bench/relay.js does), runs the built relay under
// `node --cpu-prof` until nothing is pending, and prints the CPU time per 1 000 messages of the
// relay, of Postgres (all its processes) and of the broker (RabbitMQ's beam.smp, Kafka's java),
// then the relay's functions and packages with the most self time. The .cpuprofile is kept.
//
// Run by hand, after a build (`npx tsc -b`), against loopback services only:
//   node bench/profile-relay.js
//   BROKER=kafka EVENTS=50000 BATCH=100 LOOPS=2 TOP=30 node bench/profile-relay.js [--keep]
// Bounded: one drain of EVENTS, given at most 300 s. Creates and (unless --keep) drops its own
// database, orchestron_bench_profile_relay; deletes its exchange and queue, or its topic.
'use strict';

const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const s = require('./support');

const BROKER = process.env.BROKER ?? 'rabbitmq';
const EVENTS = Number(process.env.EVENTS ?? 50_000);
const BATCH = Number(process.env.BATCH ?? 100);
const LOOPS = Number(process.env.LOOPS ?? 2);
const TOP = Number(process.env.TOP ?? 30);
const DRAIN_SECONDS = 300;

async function main() {
  s.requireLoopback();
  const database = await s.scratchDatabase('orchestron_bench_profile_relay');
  const destination = `orchestron_bench_${randomBytes(4).toString('hex')}`;
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestron-profile-'));
  const { remove: cleanup } = await (BROKER === 'rabbitmq'
    ? s.exchangeWithQueue(destination)
    : s.kafkaTopic(destination));
  let relay = null;
  let figures;
  try {
    await s.seedBacklog(database.knex, { events: EVENTS, broker: BROKER, destination });
    const brokerPattern = BROKER === 'rabbitmq' ? 'beam.smp' : 'kafka.Kafka';
    const before = { postgres: s.cpuMillis(s.pidsOf('postgres')), broker: s.cpuMillis(s.pidsOf(brokerPattern)) };
    const started = Date.now();
    relay = await s.startApp(
      'relay',
      {
        DATABASE_URL: database.url,
        ORCHESTRON_BROKER_TYPE: BROKER,
        ORCHESTRON_OUTBOX_BATCH_SIZE: String(BATCH),
        ORCHESTRON_OUTBOX_CONCURRENCY: String(LOOPS),
        ...(BROKER === 'rabbitmq'
          ? { AMQP_URL: s.AMQP_URL, ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: destination }
          : { KAFKA_BROKERS: s.KAFKA_BROKERS.join(','), ORCHESTRON_ROUTING_DEFAULT_TOPIC: destination }),
      },
      { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] },
    );
    for (;;) {
      const { rows } = await database.knex.raw(`select count(*)::int as n from outbox where status = 'pending'`);
      if (rows[0].n === 0) break;
      if (Date.now() - started > DRAIN_SECONDS * 1000) throw new Error(`not drained in ${DRAIN_SECONDS} s`);
      await s.sleep(100);
    }
    const seconds = (Date.now() - started) / 1000;
    // Measured while the relay still runs: its database backends end with it.
    figures = {
      seconds,
      relay: s.cpuMillis([relay.pid]).get(relay.pid) ?? NaN,
      postgres: s.cpuSince('postgres', before.postgres),
      broker: s.cpuSince(brokerPattern, before.broker),
    };
  } finally {
    await relay?.stop(); // SIGTERM: a clean exit writes the profile
    await cleanup();
    await database.drop();
  }
  const per1000 = (ms) => `${((ms * 1000) / EVENTS).toFixed(0)} ms`;
  console.log(
    `${s.describeMachine()}\n${EVENTS} events to ${BROKER}, batch ${BATCH} x ${LOOPS} loops, drained in ${figures.seconds.toFixed(1)} s (relay start included)\n`,
  );
  console.log(
    s.table(
      ['process', 'CPU per 1 000 messages', 'CPU share of the drain'],
      [
        [
          'relay (node, start-up included)',
          per1000(figures.relay),
          `${(figures.relay / figures.seconds / 10).toFixed(0)}%`,
        ],
        [
          'postgres (all processes)',
          per1000(figures.postgres),
          `${(figures.postgres / figures.seconds / 10).toFixed(0)}%`,
        ],
        [BROKER, per1000(figures.broker), `${(figures.broker / figures.seconds / 10).toFixed(0)}%`],
      ],
    ),
  );
  const file = fs.readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the relay wrote no profile into ${profileDir}`);
  console.log(s.summariseProfile(JSON.parse(fs.readFileSync(path.join(profileDir, file), 'utf8')), TOP));
  console.log(`\nprofile: ${path.join(profileDir, file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
