#!/usr/bin/env node
// Do the relays keep publishing at full speed while a 100 000-event replay runs?
//
//   1. Stores REPLAY_EVENTS events (1 KB order.created payloads) as history: their outbox rows
//      already published, as after a day of traffic.
//   2. Starts the built relay (apps/relay/dist) on RabbitMQ: a fresh exchange with a queue bound
//      with '#' and capped at 10 000 messages (drop-head), so the broker holds no backlog.
//   3. Phase "live only": a producer writes LIVE_RATE events per second (events + outbox rows
//      + NOTIFY, in batches every 50 ms, as ingest does) for PHASE_SECONDS; measured: the live
//      events' delivery latency (outbox created_at -> published_at) and what the relay
//      published per second.
//   4. Phase "live + replay": the same live load, and a replay of all the history (the replay
//      runner of packages/replay, as the admin app runs it) at REPLAY_RATE events per second
//      until it completes; measured: the same, plus the replay's duration and its batches'
//      transaction times.
//   5. Phase "drain": the relay alone on a backlog of DRAIN_EVENTS pending rows: its full speed
//      on this machine now, for comparison.
//
// Run by hand, after a build (`npx tsc -b`), against loopback services only:
//   node bench/replay.js
//   REPLAY_EVENTS=100000 REPLAY_RATE=5000 LIVE_RATE=500 PHASE_SECONDS=20 MAX_PENDING=250 node bench/replay.js
// Bounded: the replay phase ends after MAX_SECONDS (default 180) whatever happens.
'use strict';

const { randomBytes } = require('node:crypto');
const s = require('./support');

const { ReplayRunner, createReplayStore, requestReplay, parseReplayRequest } = require(
  `${s.repo}/packages/replay/dist`,
);

const DATABASE = 'orchestron_bench_replay';
const REPLAY_EVENTS = Number(process.env.REPLAY_EVENTS ?? 100_000);
const REPLAY_RATE = Number(process.env.REPLAY_RATE ?? 5_000);
const LIVE_RATE = Number(process.env.LIVE_RATE ?? 500);
const PHASE_SECONDS = Number(process.env.PHASE_SECONDS ?? 20);
const DRAIN_EVENTS = Number(process.env.DRAIN_EVENTS ?? 50_000);
const MAX_SECONDS = Number(process.env.MAX_SECONDS ?? 180);
/** replay.max_pending: the replay's rows that may wait for the relay at once. */
const MAX_PENDING = Number(process.env.MAX_PENDING ?? 250);
const TICK_MS = 50;

async function main() {
  s.requireLoopback();
  console.error(s.describeMachine());
  console.error(`history ${REPLAY_EVENTS} at ${REPLAY_RATE}/s; live ${LIVE_RATE}/s; phases of ${PHASE_SECONDS} s`);
  const database = await s.scratchDatabase(DATABASE);
  const exchange = `orchestron_bench_${randomBytes(4).toString('hex')}`;
  const broker = await cappedExchange(exchange);
  let relay;
  try {
    await s.seedBacklog(database.knex, { events: REPLAY_EVENTS, broker: 'rabbitmq', destination: exchange });
    await database.knex.raw(`update outbox set status = 'published', published_at = now()`);
    await database.knex.raw('vacuum analyze outbox');
    relay = await s.startApp('relay', {
      DATABASE_URL: database.url,
      AMQP_URL: s.AMQP_URL,
      ORCHESTRON_BROKER_TYPE: 'rabbitmq',
      ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
      ORCHESTRON_OUTBOX_STATS_INTERVAL: '10s',
      ORCHESTRON_RETENTION_INTERVAL: '0',
    });

    const live = liveProducer(database.knex, exchange);
    const liveOnly = await phase(database.knex, () => s.sleep(PHASE_SECONDS * 1000));
    console.error(`  live only: ${line(liveOnly)}`);

    const batchMs = [];
    const store = createReplayStore(database.knex);
    const timed = {
      ...store,
      async runBatch(...args) {
        const started = performance.now();
        try {
          return await store.runBatch(...args);
        } finally {
          batchMs.push(performance.now() - started);
        }
      },
    };
    const runner = new ReplayRunner({
      store: timed,
      logger: {
        info: () => undefined,
        warn: (m, meta) => console.error(m, meta),
        error: (m, meta) => console.error(m, meta),
      },
      batchSize: 500,
      concurrency: 1,
      pollInterval: 100,
      lease: 30_000,
      maxPending: MAX_PENDING,
    });
    let replay;
    const withReplay = await phase(database.knex, async () => {
      const request = parseReplayRequest(
        { filter: { sources: ['bench'] }, rate_limit: REPLAY_RATE, confirm_count: REPLAY_EVENTS },
        { maxRateLimit: REPLAY_RATE },
      );
      replay = (
        await requestReplay(
          database.knex,
          request,
          { name: 'bench', scope: { sources: ['*'], types: ['*'] } },
          {
            defaultRateLimit: REPLAY_RATE,
          },
        )
      ).replay;
      runner.start();
      const deadline = Date.now() + MAX_SECONDS * 1000;
      for (;;) {
        const { rows } = await database.knex.raw(
          `select status, (select count(*)::int from outbox where replay_id = r.id and status = 'pending') as pending
           from replays r where id = ?`,
          [replay.id],
        );
        if (rows[0].status === 'completed' && rows[0].pending === 0) break;
        if (Date.now() > deadline)
          throw new Error(`the replay did not complete within ${MAX_SECONDS} s: ${JSON.stringify(rows[0])}`);
        await s.sleep(250);
      }
    });
    await runner.stop(10_000);
    live.stop();
    await live.done;
    const { rows } = await database.knex.raw(
      `select extract(epoch from finished_at - started_at)::float8 as seconds, matched, enqueued,
              (select extract(epoch from max(published_at) - min(created_at))::float8 from outbox where replay_id = r.id)
                as published_within
       from replays r where id = ?`,
      [replay.id],
    );
    const replayed = rows[0];
    console.error(
      `  live + replay: ${line(withReplay)}; replay of ${replayed.matched} enqueued in ${s.fixed(replayed.seconds, 1)} s, ` +
        `all published within ${s.fixed(replayed.published_within, 1)} s; batch transaction p50 ${s.fixed(s.percentile(batchMs, 50), 1)} ms, ` +
        `p99 ${s.fixed(s.percentile(batchMs, 99), 1)} ms, max ${s.fixed(Math.max(...batchMs), 1)} ms`,
    );

    await relay.stop();
    relay = undefined;
    const drain = await drainRate(database, exchange);
    console.error(`  drain of ${DRAIN_EVENTS}: ${s.fixed(drain)} rows/s`);

    console.log(
      s.table(
        ['phase', 'live events/s written', 'live latency p50 / p99 (ms)', 'relay published/s', 'replay'],
        [
          [
            'live only',
            s.fixed(liveOnly.liveWritten),
            `${s.fixed(liveOnly.p50)} / ${s.fixed(liveOnly.p99)}`,
            s.fixed(liveOnly.published),
            '-',
          ],
          [
            'live + replay',
            s.fixed(withReplay.liveWritten),
            `${s.fixed(withReplay.p50)} / ${s.fixed(withReplay.p99)}`,
            s.fixed(withReplay.published),
            `${replayed.matched} events in ${s.fixed(replayed.seconds, 1)} s (${s.fixed(replayed.matched / replayed.seconds)}/s), batch tx p99 ${s.fixed(s.percentile(batchMs, 99), 1)} ms`,
          ],
          ['relay drain alone', '-', '-', s.fixed(drain), '-'],
        ],
      ),
    );
  } finally {
    if (relay) await relay.stop();
    await broker.remove().catch((error) => console.error(`cleanup: ${error.message}`));
    await database.drop();
  }
}

function line(p) {
  return `live ${s.fixed(p.liveWritten)}/s written, latency p50 ${s.fixed(p.p50)} ms p99 ${s.fixed(p.p99)} ms; relay published ${s.fixed(p.published)}/s`;
}

/** An exchange with a queue bound '#' that keeps at most 10 000 messages (the oldest dropped). */
async function cappedExchange(exchange) {
  const amqp = s.fromPackage('amqplib', 'packages/broker-rabbitmq');
  const connection = await amqp.connect(s.AMQP_URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(exchange, {
    durable: false,
    arguments: { 'x-max-length': 10_000, 'x-overflow': 'drop-head' },
  });
  await channel.bindQueue(exchange, exchange, '#');
  return {
    async remove() {
      await channel.deleteQueue(exchange);
      await channel.deleteExchange(exchange);
      await connection.close();
    },
  };
}

/** Writes LIVE_RATE events per second (events, outbox, NOTIFY in one transaction per tick) until stopped. */
function liveProducer(knex, exchange) {
  const data = JSON.stringify(s.orderEvent(0).data);
  const perTick = Math.max(1, Math.round((LIVE_RATE * TICK_MS) / 1000));
  let running = true;
  const done = (async () => {
    const started = Date.now();
    let ticks = 0;
    while (running) {
      await knex.transaction(async (trx) => {
        await trx.raw(
          `with e as (
             insert into events (id, source, type, schema_version, payload, headers, received_at)
             select ${s.TIME_ORDERED_UUID}, 'live', 'order.created', 1, ?::jsonb, '{"content-type": "application/json"}', now()
             from generate_series(1, ?) returning id
           )
           insert into outbox (event_id, broker, destination, routing_key) select id, 'rabbitmq', ?, 'order.created' from e`,
          [data, perTick, exchange],
        );
        await trx.raw(`select pg_notify('orchestron_outbox', '')`);
      });
      ticks += 1;
      const wait = started + ticks * TICK_MS - Date.now();
      if (wait > 0) await s.sleep(wait);
    }
  })();
  return { stop: () => (running = false), done };
}

/** Runs `during`, then reports on the live rows written and everything published meanwhile. */
async function phase(knex, during) {
  const { rows: start } = await knex.raw(`select now() as at`);
  await during();
  await s.sleep(2_000); // the live rows of the last moments get published
  const { rows } = await knex.raw(
    `select extract(epoch from now() - ?::timestamptz)::float8 - 2 as seconds,
            count(*) filter (where o.replay_id is null and o.created_at >= ?)::int as live,
            percentile_cont(0.5) within group (order by extract(epoch from o.published_at - o.created_at) * 1000)
              filter (where o.replay_id is null and o.created_at >= ?) as p50,
            percentile_cont(0.99) within group (order by extract(epoch from o.published_at - o.created_at) * 1000)
              filter (where o.replay_id is null and o.created_at >= ?) as p99,
            count(*) filter (where o.published_at >= ?)::int as published
     from outbox o where o.created_at >= ? or o.published_at >= ?`,
    Array(7).fill(start[0].at),
  );
  const r = rows[0];
  const pending = await knex.raw(
    `select count(*)::int as n from outbox where status = 'pending' and replay_id is null`,
  );
  if (pending.rows[0].n > LIVE_RATE)
    console.error(`  note: ${pending.rows[0].n} live rows still pending after the phase`);
  return { liveWritten: r.live / r.seconds, p50: r.p50, p99: r.p99, published: r.published / r.seconds };
}

/** The relay alone on a backlog: rows per second between its first and last publish. */
async function drainRate(database, exchange) {
  await s.seedBacklog(database.knex, { events: DRAIN_EVENTS, broker: 'rabbitmq', destination: exchange });
  const relay = await s.startApp('relay', {
    DATABASE_URL: database.url,
    AMQP_URL: s.AMQP_URL,
    ORCHESTRON_BROKER_TYPE: 'rabbitmq',
    ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
    ORCHESTRON_RETENTION_INTERVAL: '0',
  });
  try {
    const deadline = Date.now() + MAX_SECONDS * 1000;
    for (;;) {
      const { rows } = await database.knex.raw(`select count(*)::int as n from outbox where status = 'pending'`);
      if (rows[0].n === 0) break;
      if (Date.now() > deadline) throw new Error('the relay did not drain the backlog in time');
      await s.sleep(200);
    }
    const { rows } = await database.knex.raw(
      `select extract(epoch from max(published_at) - min(published_at))::float8 as span, count(*)::int as n from outbox`,
    );
    return rows[0].n / rows[0].span;
  } finally {
    await relay.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
