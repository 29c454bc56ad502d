import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configurationReference } from '../src';

describe('docs/configuration.md', () => {
  it('is up to date with the schema (regenerate with `node scripts/gen-config-docs.js`)', () => {
    const committed = readFileSync(path.join(__dirname, '../../../docs/configuration.md'), 'utf8');
    expect(committed).toBe(configurationReference());
  });
});
