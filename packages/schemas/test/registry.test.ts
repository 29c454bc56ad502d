import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SchemaRegistry } from '../src';

function schemaDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'orchestron-schemas-'));
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const v1 = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };
const v2 = {
  ...v1,
  required: ['id', 'at'],
  properties: { ...v1.properties, at: { type: 'string', format: 'date-time' } },
};

describe('SchemaRegistry', () => {
  it('loads the example schemas that ship with Orchestron', () => {
    const registry = SchemaRegistry.loadFromDirectory(path.join(__dirname, '../../../schemas'));
    expect(registry.types()).toEqual(expect.arrayContaining(['order.created', 'user.signed_up']));
  });

  it('validates against the latest version unless one is asked for', () => {
    const registry = SchemaRegistry.loadFromDirectory(schemaDir({ 'a.b/1.json': v1, 'a.b/2.json': v2 }));
    expect(registry.validate('a.b', null, { id: 'x' })).toMatchObject({ ok: false, version: 2 });
    expect(registry.validate('a.b', 1, { id: 'x' })).toEqual({ ok: true, version: 1 });
    expect(registry.validate('a.b', 3, { id: 'x' })).toMatchObject({ ok: false, reason: 'unknown-version' });
    expect(registry.validate('c.d', null, {})).toMatchObject({ ok: false, reason: 'unknown-type' });
  });

  it('reports every violation with a JSON pointer to it', () => {
    const registry = SchemaRegistry.loadFromDirectory(schemaDir({ 'a.b/2.json': v2 }));
    const outcome = registry.validate('a.b', null, { id: 5, at: 'yesterday' });
    expect(outcome.ok).toBe(false);
    if (outcome.ok || outcome.reason !== 'invalid') throw new Error('expected violations');
    expect(outcome.violations.map((v) => v.pointer).sort()).toEqual(['/at', '/id']);
    const missing = registry.validate('a.b', null, {});
    if (missing.ok || missing.reason !== 'invalid') throw new Error('expected violations');
    expect(missing.violations.map((v) => v.pointer).sort()).toEqual(['/at', '/id']);
  });

  it('refuses to load a directory with broken schemas, naming each', () => {
    const dir = schemaDir({ 'a.b/1.json': '{not json', 'a.b/latest.json': v1, 'c.d/1.json': { type: 'nonsense' } });
    expect(() => SchemaRegistry.loadFromDirectory(dir)).toThrow(/1\.json[\s\S]*latest\.json[\s\S]*c\.d/);
  });
});

describe('custom rules', () => {
  const now = Date.UTC(2026, 10, 26, 12, 0, 0);
  const schema = {
    type: 'object',
    properties: {
      at: { type: 'string', format: 'date-time', notInFuture: true },
      currency: { type: 'string', allowedValuesFrom: 'currencies' },
    },
  };

  function registry(lists: Record<string, string[]> = { currencies: ['EUR', 'USD'] }) {
    return SchemaRegistry.loadFromDirectory(schemaDir({ 'pay/1.json': schema }), {
      lists,
      maxClockSkewMs: 60_000,
      now: () => now,
    });
  }

  it('refuses a time later than now plus the allowed clock skew', () => {
    const r = registry();
    expect(r.validate('pay', null, { at: new Date(now + 30_000).toISOString() }).ok).toBe(true);
    const outcome = r.validate('pay', null, { at: new Date(now + 120_000).toISOString() });
    expect(outcome).toMatchObject({
      ok: false,
      violations: [{ pointer: '/at', message: 'must not be in the future' }],
    });
  });

  it('takes allowed values from a configured list', () => {
    const r = registry();
    expect(r.validate('pay', null, { currency: 'EUR' }).ok).toBe(true);
    expect(r.validate('pay', null, { currency: 'XXX' })).toMatchObject({
      ok: false,
      violations: [{ pointer: '/currency', message: 'must be one of the list "currencies"' }],
    });
  });

  it('refuses to load a schema that names a list the configuration lacks', () => {
    expect(() => registry({})).toThrow(/currencies/);
  });
});
