#!/usr/bin/env node
// Runs the benchmark suite in sequence (`npm run bench`), each script printing its table:
// ingest (single events and batches beside node:http + pg, a bare express app and pgbench),
// relay (drain beside the raw broker clients), relay scaling (1 / 2 / 4 replicas, ordering on
// and off) and end-to-end latency. Run by hand after `npx tsc -b`, never in CI. Each script
// reads its own settings from the environment (see its header); two are separate because they
// write millions of rows: `node bench/claim-with-history.js`, and the relay's memory over a
// million events (docs/benchmarks.md).
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const SCRIPTS = ['ingest.js', 'relay.js', 'relay-scaling.js', 'e2e-latency.js'];

let failed = 0;
for (const script of SCRIPTS) {
  console.log(`\n## bench/${script}\n`);
  const { status } = spawnSync(process.execPath, [path.join(__dirname, script), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (status !== 0) {
    console.error(`bench/${script} failed (exit ${status})`);
    failed += 1;
  }
}
process.exit(failed > 0 ? 1 : 0);
