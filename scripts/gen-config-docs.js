// Writes docs/configuration.md from the convict schema (run after a build).
const { writeFileSync } = require('node:fs');
const path = require('node:path');
const { configurationReference } = require('../packages/config/dist');

const target = path.join(__dirname, '..', 'docs', 'configuration.md');
writeFileSync(target, configurationReference());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
