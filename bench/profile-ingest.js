#!/usr/bin/env node
// Where does ingest spend its CPU? Runs the built ingest under `node --cpu-prof`, loads it with
// autocannon (1 KB single events, the full path as bench/ingest.js runs it), stops it, and prints
// the functions and the packages with the most self time. The .cpuprofile is kept for a closer
// look (Chrome DevTools, or speedscope).
//
// Run by hand, after a build (`npx tsc -b`), against a loopback Postgres only:
//   node bench/profile-ingest.js
//   DURATION=10 CONCURRENCY=16 BATCH=1 TOP=30 node bench/profile-ingest.js [--keep]
// Bounded: one run of DURATION seconds. Creates and (unless --keep) drops its own database,
// orchestron_bench_profile.
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

async function main() {
  s.requireLoopback();
  const database = await s.scratchDatabase(DATABASE);
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestron-profile-'));
  let ingest = null;
  let result;
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
    await autocannon({ ...request, connections: 4, duration: 2 }); // warm-up
    result = await autocannon({ ...request, connections: CONCURRENCY, duration: DURATION });
  } finally {
    await ingest?.stop(); // SIGTERM: a clean exit writes the profile
    await database.drop();
  }
  const file = fs.readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`ingest wrote no profile into ${profileDir}`);
  console.log(
    `${s.fixed(result['2xx'] / result.duration)} requests/s (${BATCH} event(s) each) at concurrency ${CONCURRENCY}, ` +
      `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}`,
  );
  console.log(s.summariseProfile(JSON.parse(fs.readFileSync(path.join(profileDir, file), 'utf8')), TOP));
  console.log(`\nprofile: ${path.join(profileDir, file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
