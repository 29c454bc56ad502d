#!/usr/bin/env node
// Where does ingest spend its CPU? Runs the built ingest under `node --cpu-prof`, loads it with
// autocannon (1 KB events, the full path as bench/ingest.js runs it), and prints the CPU time
// per request of ingest and of Postgres beside the same of the minimal node:http + pg server
// under the same load (single events), then ingest's functions and packages with the most self
// time. The .cpuprofile is kept for a closer look (Chrome DevTools, or speedscope).
//
// Run by hand, after a build (`npx tsc -b`), against a loopback Postgres only:
//   node bench/profile-ingest.js
//   DURATION=10 CONCURRENCY=16 BATCH=1 WARMUP=10 TOP=30 node bench/profile-ingest.js [--keep]
// Bounded: per server a warm-up of WARMUP seconds and one run of DURATION seconds. Creates and
// (unless --keep) drops its own database, orchestron_bench_profile.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const s = require('./support');

const autocannon = s.fromPackage('autocannon', '.');
const DATABASE = 'orchestron_bench_profile';
const DURATION = Number(process.env.DURATION ?? 10);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const BATCH = Number(process.env.BATCH ?? 1);
const TOP = Number(process.env.TOP ?? 30);
const WARMUP = Number(process.env.WARMUP ?? 10);

async function main() {
  s.requireLoopback();
  const database = await s.scratchDatabase(DATABASE);
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestron-profile-'));
  let ingest = null;
  let minimal = null;
  const rows = [];
  try {
    const apiKey = await s.createApiKey(database.knex);
    ingest = await s.startApp(
      'ingest',
      {
        DATABASE_URL: database.url,
        ORCHESTRON_API_RATE_LIMIT: '1000000',
        ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: 'events',
      },
      { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] },
    );
    const body =
      BATCH === 1
        ? JSON.stringify(s.orderEvent(0))
        : JSON.stringify(Array.from({ length: BATCH }, (_, i) => s.orderEvent(i)));
    const request = {
      url: `${ingest.url}/events`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body,
    };
    minimal = await s.startReferenceServer(database.url);
    const targets = [
      { name: 'ingest (full path, profiled)', pid: ingest.pid, request },
      // The raw limit beside it, for what ingest's own work costs (one event per request only).
      ...(BATCH === 1
        ? [
            {
              name: 'node:http + pg (bench/minimal-ingest-server.js)',
              pid: minimal.pid,
              request: { ...request, url: `${minimal.url}/events` },
            },
          ]
        : []),
    ];
    for (const target of targets) {
      await autocannon({ ...target.request, connections: 16, duration: WARMUP });
      const before = { own: s.cpuMillis([target.pid]), postgres: s.cpuMillis(s.pidsOf('postgres')) };
      const result = await autocannon({ ...target.request, connections: CONCURRENCY, duration: DURATION });
      const own = (s.cpuMillis([target.pid]).get(target.pid) ?? NaN) - (before.own.get(target.pid) ?? 0);
      const postgres = s.cpuSince('postgres', before.postgres);
      const ok = result['2xx'];
      rows.push([
        target.name,
        s.fixed(ok / result.duration),
        `${result.latency.p50} / ${result.latency.p99} ms`,
        `${s.fixed(own / ok, 3)} ms`,
        `${s.fixed(postgres / ok, 3)} ms`,
        result.non2xx,
      ]);
    }
  } finally {
    await ingest?.stop(); // SIGTERM: a clean exit writes the profile
    await minimal?.stop();
    await database.drop();
  }
  const file = fs.readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`ingest wrote no profile into ${profileDir}`);
  console.log(`${s.describeMachine()}\n${BATCH} event(s) per request, concurrency ${CONCURRENCY}, ${DURATION} s\n`);
  console.log(
    s.table(['server', 'requests/s', 'p50 / p99', 'its CPU per request', 'Postgres CPU per request', 'non-2xx'], rows),
  );
  console.log(s.summariseProfile(JSON.parse(fs.readFileSync(path.join(profileDir, file), 'utf8')), TOP));
  console.log(`\nprofile: ${path.join(profileDir, file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
