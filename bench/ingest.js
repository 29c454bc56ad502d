#!/usr/bin/env node
// Ingest throughput and latency beside the raw limits of this machine, measured in the same run.
//
// Single events: autocannon POSTs a 1 KB order.created event at concurrency 1 / 16 / 64 to
//   1. ingest, the full path: built apps/ingest as a child process, API key auth, rate limit on
//      but high (1e6/s), schema validation, routing, the insert of event + outbox + NOTIFY;
//   2. bench/minimal-ingest-server.js: node:http + pg doing the same insert as one prepared
//      statement, nothing else (the best a Node process can do here);
//   2a. bench/express-ingest-server.js: that insert behind a bare express app (express.raw,
//      res.json): what the framework alone costs, so what is left is ingest's own work;
//   3. pgbench running that same statement, the event passed as a parameter (the database's
//      limit, no HTTP and no Node at all).
// Batches: 100 events per request to ingest, beside pgbench inserting 100 events (events +
//   outbox + NOTIFY) per transaction, the 100 events passed as one parameter.
// Each cell runs ROUNDS times, the targets in rotating order, and the tables show medians:
// these machines are noisy. Ingest's RSS is sampled throughout.
//
// Run by hand, after a build (`npx tsc -b`), against a loopback Postgres only:
//   node bench/ingest.js
//   DURATION=5 ROUNDS=3 CONCURRENCY=1,16,64 BATCH_CONCURRENCY=8 WARMUP=10 node bench/ingest.js [--keep]
//   INGEST_PROCESSES=2 node bench/ingest.js     # also: two ingest processes sharing the load
// Bounded: a warm-up of WARMUP seconds per target, then ROUNDS x targets x concurrencies runs of
// DURATION seconds (about 5 minutes with the defaults; CONCURRENCY= skips the single events). Creates and (unless --keep) drops its own database, orchestron_bench_ingest.
'use strict';

const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const s = require('./support');

const autocannon = s.fromPackage('autocannon', '.');
const DATABASE = 'orchestron_bench_ingest';
const DURATION = Number(process.env.DURATION ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONCURRENCY = (process.env.CONCURRENCY ?? '1,16,64').split(',').filter(Boolean).map(Number);
const BATCH_CONCURRENCY = Number(process.env.BATCH_CONCURRENCY ?? 8);
const BATCH = 100;
const WARMUP = Number(process.env.WARMUP ?? 10);
const PGBENCH = process.env.PGBENCH ?? 'pgbench';
const INGEST_BEFORE = process.env.INGEST_BEFORE ?? null;
// More ingest processes beside the first (as replicas behind a load balancer would run), each
// given an equal share of the connections: does a second process pay on this machine?
const INGEST_PROCESSES = Number(process.env.INGEST_PROCESSES ?? 1);
// pgbench opens one connection per client: at most the servers' pool size (20), which is also
// all the database concurrency the HTTP servers get (and 64 would exceed a shared server's limit).
const PGBENCH_MAX_CLIENTS = Number(process.env.PGBENCH_MAX_CLIENTS ?? 20);
const WITHOUT_NOTIFY = process.env.WITHOUT_NOTIFY !== '0';

const TIME_ORDERED_UUID = s.TIME_ORDERED_UUID;

// The minimal server's statement, for pgbench (its parameter :event is the request body).
const PGBENCH_SINGLE = `with e as (
  insert into events (id, source, type, schema_version, payload, headers, received_at)
  values (${TIME_ORDERED_UUID}, 'bench', 'order.created', 1, :event::jsonb -> 'data',
          '{"content-type": "application/json"}'::jsonb, now())
  returning id
), o as (
  insert into outbox (event_id, broker, destination, routing_key)
  select id, 'rabbitmq', 'events', 'order.created' from e returning 1
)
select pg_notify('orchestron_outbox', '') from (select count(*) from o) n;`;

// 100 events per transaction, passed as one JSON array parameter (as ingest receives them).
const PGBENCH_BATCH = `with e as (
  insert into events (id, source, type, schema_version, payload, headers, received_at)
  select ${TIME_ORDERED_UUID}, 'bench', ev ->> 'type', 1, ev -> 'data',
         '{"content-type": "application/json"}'::jsonb, now()
  from jsonb_array_elements(:events::jsonb) ev
  returning id
), o as (
  insert into outbox (event_id, broker, destination, routing_key)
  select id, 'rabbitmq', 'events', 'order.created' from e returning 1
)
select pg_notify('orchestron_outbox', '') from (select count(*) from o) n;`;

/** The statement with its NOTIFY left out (the CTEs still run: they modify data). */
function withoutNotify(statement) {
  return statement.replace(
    `select pg_notify('orchestron_outbox', '') from (select count(*) from o) n;`,
    'select count(*) from o;',
  );
}

async function main() {
  s.requireLoopback();
  console.error(`${s.describeMachine()}`);
  console.error(
    `${ROUNDS} rounds of ${DURATION} s; concurrency ${CONCURRENCY.join('/')}; batches at ${BATCH_CONCURRENCY}`,
  );
  const database = await s.scratchDatabase(DATABASE);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestron-bench-ingest-'));
  let ingest = null;
  let minimal = null;
  let bareExpress = null;
  let before = null;
  const extra = [];
  let rss = null;
  const results = { single: [], batch: [] };
  try {
    const apiKey = await s.createApiKey(database.knex);
    ingest = await s.startApp('ingest', {
      DATABASE_URL: database.url,
      ORCHESTRON_API_RATE_LIMIT: '1000000',
      ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: 'events',
    });
    // A copy of an earlier build of ingest (INGEST_BEFORE=/copy/of/apps/ingest/dist/main.js), run
    // beside the current one: before/after figures of a change, from the same run.
    if (INGEST_BEFORE) {
      before = await s.startApp(
        'ingest',
        {
          DATABASE_URL: database.url,
          ORCHESTRON_API_RATE_LIMIT: '1000000',
          ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: 'events',
        },
        { main: INGEST_BEFORE },
      );
    }
    for (let i = 1; i < INGEST_PROCESSES; i++) {
      extra.push(
        await s.startApp('ingest', {
          DATABASE_URL: database.url,
          ORCHESTRON_API_RATE_LIMIT: '1000000',
          ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: 'events',
        }),
      );
    }
    const processes = [ingest, ...extra];
    minimal = await s.startReferenceServer(database.url);
    bareExpress = await s.startReferenceServer(database.url, 'express-ingest-server.js');
    rss = s.sampleRss(ingest.pid);

    const event = JSON.stringify(s.orderEvent(0));
    const batch = JSON.stringify(Array.from({ length: BATCH }, (_, i) => s.orderEvent(i)));
    const http = (url, body, auth) => ({
      url: `${url}/events`,
      body,
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${apiKey}` } : {}) },
    });
    const targets = [
      { name: 'ingest (full path)', run: (c, d) => loadHttp(http(ingest.url, event, true), c, d) },
      ...(before
        ? [{ name: 'ingest before (INGEST_BEFORE)', run: (c, d) => loadHttp(http(before.url, event, true), c, d) }]
        : []),
      ...(extra.length > 0
        ? [
            {
              name: `ingest, ${processes.length} processes`,
              run: (c, d) =>
                loadSpread(
                  processes.map((p) => http(p.url, event, true)),
                  c,
                  d,
                ),
            },
          ]
        : []),
      { name: 'node:http + pg', run: (c, d) => loadHttp(http(minimal.url, event, false), c, d) },
      { name: 'express + pg', run: (c, d) => loadHttp(http(bareExpress.url, event, false), c, d) },
      { name: 'pgbench', run: (c, d) => loadPgbench(database.url, work, PGBENCH_SINGLE, { event }, c, d) },
      // The same statement without pg_notify: what the NOTIFY costs under concurrency.
      ...(WITHOUT_NOTIFY
        ? [
            {
              name: 'pgbench, without NOTIFY',
              run: (c, d) => loadPgbench(database.url, work, withoutNotify(PGBENCH_SINGLE), { event }, c, d),
            },
          ]
        : []),
    ];

    // Warm-up: JIT, pools, prepared statements, caches. Ingest runs far more JavaScript than the
    // minimal server (express, ajv, routing), which the JIT compiles over several seconds: a
    // short warm-up measured its first seconds, not the service it is after minutes of traffic.
    for (const t of targets) await t.run(16, WARMUP);

    for (const c of CONCURRENCY) {
      const runs = new Map(targets.map((t) => [t.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < targets.length; k++) {
          const t = targets[(k + round) % targets.length];
          const r = await t.run(c, DURATION);
          runs.get(t.name).push(r);
          console.error(
            `  c=${c} round ${round + 1} ${t.name}: ${s.fixed(r.perSecond)}/s p50 ${s.fixed(r.p50, 2)} ms p99 ${s.fixed(r.p99, 2)} ms${r.errors ? ` errors ${r.errors}` : ''}`,
          );
        }
      }
      for (const t of targets) results.single.push({ concurrency: c, target: t.name, ...medians(runs.get(t.name)) });
    }

    const batchTargets = [
      { name: 'ingest, 100-event batches', run: (c, d) => loadHttp(http(ingest.url, batch, true), c, d) },
      ...(before
        ? [{ name: 'ingest before, 100-event batches', run: (c, d) => loadHttp(http(before.url, batch, true), c, d) }]
        : []),
      ...(extra.length > 0
        ? [
            {
              name: `ingest, ${processes.length} processes, 100-event batches`,
              run: (c, d) =>
                loadSpread(
                  processes.map((p) => http(p.url, batch, true)),
                  c,
                  d,
                ),
            },
          ]
        : []),
      {
        name: 'pgbench, 100 events per transaction',
        run: (c, d) => loadPgbench(database.url, work, PGBENCH_BATCH, { events: batch }, c, d),
      },
    ];
    for (const t of batchTargets) await t.run(BATCH_CONCURRENCY, WARMUP / 2);
    const batchRuns = new Map(batchTargets.map((t) => [t.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < batchTargets.length; k++) {
        const t = batchTargets[(k + round) % batchTargets.length];
        const r = await t.run(BATCH_CONCURRENCY, DURATION);
        batchRuns.get(t.name).push(r);
        console.error(
          `  batch round ${round + 1} ${t.name}: ${s.fixed(r.perSecond * BATCH)} events/s p50 ${s.fixed(r.p50, 2)} ms`,
        );
      }
    }
    for (const t of batchTargets) results.batch.push({ target: t.name, ...medians(batchRuns.get(t.name)) });
    results.rss = { peak: rss.peak(), end: s.rssOf(ingest.pid) };
  } finally {
    rss?.stop();
    await ingest?.stop();
    await before?.stop();
    for (const p of extra) await p.stop();
    await minimal?.stop();
    await bareExpress?.stop();
    await database.drop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  report(results);
}

/** The median of each figure over the rounds. */
function medians(runs) {
  return {
    perSecond: s.median(runs.map((r) => r.perSecond)),
    p50: s.median(runs.map((r) => r.p50)),
    p99: s.median(runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}

/** autocannon for `duration` s at `connections`; counts 2xx answers only. */
async function loadHttp(request, connections, duration) {
  const result = await autocannon({
    url: request.url,
    method: 'POST',
    headers: request.headers,
    body: request.body,
    connections,
    duration,
  });
  const ok = result['2xx'];
  return {
    perSecond: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * autocannon against several servers at once, the connections shared out evenly (servers
 * beyond the number of connections get none); the rate is the sum, the latencies those of the
 * slower server (an upper bound).
 */
async function loadSpread(requests, connections, duration) {
  const used = requests.slice(0, Math.min(requests.length, connections));
  const share = (i) => Math.floor(connections / used.length) + (i < connections % used.length ? 1 : 0);
  const runs = await Promise.all(used.map((r, i) => loadHttp(r, share(i), duration)));
  return {
    perSecond: runs.reduce((sum, r) => sum + r.perSecond, 0),
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** pgbench with a custom script (prepared statements), per-transaction latencies from its log. */
async function loadPgbench(url, work, script, variables, clients, duration) {
  const scriptFile = path.join(work, 'script.sql');
  fs.writeFileSync(scriptFile, script);
  const logDir = fs.mkdtempSync(path.join(work, 'log-'));
  const u = new URL(url);
  const args = [
    '-h',
    u.hostname,
    '-p',
    u.port || '5432',
    '-U',
    decodeURIComponent(u.username || 'postgres'),
    '-n',
    '-M',
    'prepared',
    '-f',
    scriptFile,
    '-c',
    String(Math.min(clients, PGBENCH_MAX_CLIENTS)),
    '-j',
    String(Math.min(clients, os.cpus().length)),
    '-T',
    // Whole seconds only, at least one (a short WARMUP's half would be refused).
    String(Math.max(1, Math.round(duration))),
    '-l',
    '--log-prefix',
    path.join(logDir, 'tx'),
    ...Object.entries(variables).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
    u.pathname.slice(1),
  ];
  const { stdout } = await promisify(execFile)(PGBENCH, args, { maxBuffer: 16 * 2 ** 20 });
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]);
  const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
  const latencies = [];
  for (const file of fs.readdirSync(logDir)) {
    for (const line of fs.readFileSync(path.join(logDir, file), 'utf8').split('\n')) {
      const fields = line.split(' ');
      if (fields.length >= 6) latencies.push(Number(fields[2]) / 1000);
    }
  }
  fs.rmSync(logDir, { recursive: true, force: true });
  return { perSecond: tps, p50: s.percentile(latencies, 50), p99: s.percentile(latencies, 99), errors: failed };
}

function report(results) {
  const byKey = (c, name) => results.single.find((r) => r.concurrency === c && r.target === name);
  const rows = results.single.map((r) => {
    const raw = byKey(r.concurrency, 'node:http + pg');
    const framework = byKey(r.concurrency, 'express + pg');
    const pgb = byKey(r.concurrency, 'pgbench');
    return [
      r.concurrency,
      r.target,
      s.fixed(r.perSecond),
      `${s.fixed(r.p50, 2)} ms`,
      `${s.fixed(r.p99, 2)} ms`,
      `${s.fixed(r.perSecond / raw.perSecond, 2)}x`,
      `${s.fixed(r.perSecond / framework.perSecond, 2)}x`,
      `${s.fixed(r.perSecond / pgb.perSecond, 2)}x`,
      r.errors,
    ];
  });
  const ingestBatch = results.batch.find((r) => r.target === 'ingest, 100-event batches');
  const pgbenchBatch = results.batch.find((r) => r.target.startsWith('pgbench'));
  const lines = [
    s.describeMachine(),
    `single 1 KB events: median of ${ROUNDS} runs of ${DURATION} s each; ingest pool 20 connections, minimal server pool 20, pgbench min(concurrency, ${PGBENCH_MAX_CLIENTS}) clients`,
    '',
    s.table(
      [
        'concurrency',
        'target',
        'requests/s',
        'p50',
        'p99',
        'vs node:http + pg',
        'vs express + pg',
        'vs pgbench',
        'errors',
      ],
      rows,
    ),
    '',
    `batches of ${BATCH} 1 KB events, concurrency ${BATCH_CONCURRENCY}, median of ${ROUNDS} runs:`,
    '',
    s.table(
      ['target', 'events/s', 'p50 per batch', 'p99 per batch', 'vs pgbench', 'errors'],
      results.batch.map((r) => [
        r.target,
        s.fixed(r.perSecond * BATCH),
        `${s.fixed(r.p50, 2)} ms`,
        `${s.fixed(r.p99, 2)} ms`,
        `${s.fixed(r.perSecond / pgbenchBatch.perSecond, 2)}x`,
        r.errors,
      ]),
    ),
    '',
    `targets: full ingest >= 0.6x node:http + pg (${CONCURRENCY.map((c) => `c=${c}: ${s.fixed(byKey(c, 'ingest (full path)').perSecond / byKey(c, 'node:http + pg').perSecond, 2)}x`).join(', ')}); ` +
      `batch ingest >= 0.5x pgbench (${s.fixed(ingestBatch.perSecond / pgbenchBatch.perSecond, 2)}x)`,
    `ingest RSS: peak ${s.mb(results.rss.peak)} under load, ${s.mb(results.rss.end ?? 0)} at the end (target <= 200 MB)`,
  ];
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
