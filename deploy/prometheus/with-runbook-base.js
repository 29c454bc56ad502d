#!/usr/bin/env node
// Prints the alert rules (orchestron-alerts.yaml, beside this file) with every runbook_url under
// another documentation base: where docs/ of this repository is served, e.g. a fork on a Git
// host (https://git.example.com/ops/orchestron/blob/main/docs) or an internal docs site.
//   node deploy/prometheus/with-runbook-base.js <base URL> > orchestron-alerts.yaml
// Only the runbook links change; the shipped file keeps the project's docs as the base.
'use strict';
const { readFileSync } = require('node:fs');
const path = require('node:path');

const DEFAULT_BASE = 'https://orchestron.dev/docs';
const base = (process.argv[2] ?? '').replace(/\/+$/, '');
if (!/^https?:\/\/[^\s"'#?]+$/.test(base)) {
  process.stderr.write('usage: with-runbook-base.js <http(s) base URL of the docs folder, no query or fragment>\n');
  process.exit(2);
}
const rules = readFileSync(path.join(__dirname, 'orchestron-alerts.yaml'), 'utf8');
process.stdout.write(rules.replaceAll(`runbook_url: ${DEFAULT_BASE}/`, `runbook_url: ${base}/`));
