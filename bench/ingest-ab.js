#!/usr/bin/env node
// Before/after of a change to ingest, in one run: two ingest builds side by side on one
// database, loaded in alternating rounds (A, B, then B, A, ...) with the same requests, so
// that the machine's drift hits both alike; prints each round's rate and the medians of the
// rates and of each build's CPU per request.
//
// A is a copy of an earlier build of apps/ingest/dist (its @orchestron/* packages resolve to
// the current build, so this compares changes to apps/ingest); B is the current build.
//
// Run by hand, after a build (`npx tsc -b`), against a loopback Postgres only:
//   cp -r apps/ingest/dist /tmp/ingest-before   # before the change, then make it and build
//   A=/tmp/ingest-before/main.js node bench/ingest-ab.js
//   A=... C=1 ROUNDS=6 DURATION=3 WARMUP=5 BATCH=100 A_NODE_ARGS=--max-semi-space-size=8 node bench/ingest-ab.js
// C: connections; BATCH: events per request (1: single events); A_NODE_ARGS: node flags for A
// only (to compare flags rather than builds, with A=apps/ingest/dist/main.js). Bounded:
// WARMUP + 2 x ROUNDS x DURATION seconds. Creates and (unless --keep) drops
// orchestron_bench_ingest_ab.
'use strict';

const s = require('./support');

const autocannon = s.fromPackage('autocannon', '.');
const A = process.env.A;
const C = Number(process.env.C ?? 16);
const ROUNDS = Number(process.env.ROUNDS ?? 6);
const DURATION = Number(process.env.DURATION ?? 3);
const WARMUP = Number(process.env.WARMUP ?? 5);
const BATCH = Number(process.env.BATCH ?? 1);
const A_NODE_ARGS = (process.env.A_NODE_ARGS ?? '').split(' ').filter(Boolean);

async function main() {
  if (!A) throw new Error('A=/path/to/a/copy/of/apps/ingest/dist/main.js is required');
  s.requireLoopback();
  const database = await s.scratchDatabase('orchestron_bench_ingest_ab');
  const env = {
    DATABASE_URL: database.url,
    ORCHESTRON_API_RATE_LIMIT: '1000000',
    ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: 'events',
  };
  let a = null;
  let b = null;
  try {
    const apiKey = await s.createApiKey(database.knex);
    a = await s.startApp('ingest', env, { main: A, nodeArgs: A_NODE_ARGS });
    b = await s.startApp('ingest', env);
    const body =
      BATCH === 1
        ? JSON.stringify(s.orderEvent(0))
        : JSON.stringify(Array.from({ length: BATCH }, (_, i) => s.orderEvent(i)));
    const load = async (app, duration) => {
      const result = await autocannon({
        url: `${app.url}/events`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body,
        connections: C,
        duration,
      });
      if (result.non2xx > 0) throw new Error(`${result.non2xx} answers were not 2xx`);
      return result;
    };
    // Requests per second, and the build's CPU per request (user + system, from /proc): the
    // steadier of the two on a noisy machine, where a round's rate moves with everything else.
    const measure = async (app, duration) => {
      const before = s.cpuMillis([app.pid]).get(app.pid) ?? NaN;
      const result = await load(app, duration);
      const cpu = (s.cpuMillis([app.pid]).get(app.pid) ?? NaN) - before;
      return { rate: result['2xx'] / result.duration, cpuPerRequest: cpu / result['2xx'] };
    };
    await load(a, WARMUP);
    await load(b, WARMUP);
    const rounds = { A: [], B: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order =
        round % 2 === 0
          ? [
              ['A', a],
              ['B', b],
            ]
          : [
              ['B', b],
              ['A', a],
            ];
      for (const [name, app] of order) rounds[name].push(await measure(app, DURATION));
    }
    const rates = { A: rounds.A.map((r) => r.rate), B: rounds.B.map((r) => r.rate) };
    const cpu = { A: rounds.A.map((r) => r.cpuPerRequest), B: rounds.B.map((r) => r.cpuPerRequest) };
    const a50 = s.median(rates.A);
    const b50 = s.median(rates.B);
    const aCpu = s.median(cpu.A);
    const bCpu = s.median(cpu.B);
    console.log(
      `${s.describeMachine()}\nconcurrency ${C}, ${BATCH} event(s) per request, ${ROUNDS} rounds of ${DURATION} s each\n`,
    );
    console.log(
      s.table(
        ['build', 'requests/s per round', 'median', 'B / A', 'CPU per request, median', 'B / A'],
        [
          ['A (before)', rates.A.map((r) => s.fixed(r)).join(', '), s.fixed(a50), '', `${s.fixed(aCpu, 3)} ms`, ''],
          [
            'B (current)',
            rates.B.map((r) => s.fixed(r)).join(', '),
            s.fixed(b50),
            `${s.fixed(b50 / a50, 3)}x`,
            `${s.fixed(bCpu, 3)} ms`,
            `${s.fixed(bCpu / aCpu, 3)}x`,
          ],
        ],
      ),
    );
  } finally {
    await a?.stop();
    await b?.stop();
    await database.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
