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
  summarise(JSON.parse(fs.readFileSync(path.join(profileDir, file), 'utf8')));
  console.log(`\nprofile: ${path.join(profileDir, file)}`);
}

/** Self time per function and per package (node_modules/<name>, our packages, node internals). */
function summarise(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byPackage = new Map();
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const fn = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
    const pkg = packageOf(functionName, url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  }
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([name, micros]) => [name, `${((100 * micros) / total).toFixed(1)}%`]);
  console.log(`\nself time by package (of ${(total / 1e6).toFixed(1)} s sampled):\n`);
  console.log(s.table(['package', 'self'], rows(byPackage)));
  console.log(`\nself time by function (top ${TOP}):\n`);
  console.log(s.table(['function', 'self'], rows(byFunction)));
}

function shortUrl(url) {
  const at = url.lastIndexOf('node_modules/');
  if (at >= 0) return url.slice(at + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
  const repo = path.join(__dirname, '..');
  return url.replace(`file://${repo}/`, '');
}

function packageOf(functionName, url) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  const own = /(apps|packages)\/([^/]+)\//.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
