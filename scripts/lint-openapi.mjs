// Lints an OpenAPI document with Redocly's "recommended" rules, warnings included: prints each
// problem as one JSON line and exits 1 when there is any. Used by the admin API's tests on the
// document GET /v1/openapi.json serves:  node scripts/lint-openapi.mjs openapi.json
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node scripts/lint-openapi.mjs FILE\n');
  process.exit(2);
}
const config = await createConfig({ extends: ['recommended'] });
const problems = await lintFromString({
  source: readFileSync(file, 'utf8'),
  absoluteRef: path.resolve(file),
  config,
});
for (const problem of problems) {
  process.stdout.write(
    `${JSON.stringify({
      rule: problem.ruleId,
      severity: problem.severity,
      message: problem.message,
      at: problem.location.map((l) => l.pointer),
    })}\n`,
  );
}
process.exit(problems.length > 0 ? 1 : 0);
