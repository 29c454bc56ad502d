import { parseEnvelopes } from '../src/envelope';
import { illFormedString, jsonNestingDepth, parseJsonBody } from '../src/body';
import { Problem } from '@orchestron/http';

function problemOf(fn: () => unknown): Problem {
  try {
    fn();
  } catch (error) {
    if (error instanceof Problem) return error;
    throw error;
  }
  throw new Error('expected a Problem');
}

describe('parseEnvelopes', () => {
  it('accepts one native envelope', () => {
    const { events, batch } = parseEnvelopes(
      { type: 'a.b', data: { x: 1 }, id: 'k1', source: 'shop', partition_key: 'p', schema_version: 2 },
      10,
    );
    expect(batch).toBe(false);
    expect(events).toEqual([
      {
        type: 'a.b',
        data: { x: 1 },
        idempotencyKey: 'k1',
        source: 'shop',
        time: null,
        schemaVersion: 2,
        partitionKey: 'p',
        dataContentType: 'application/json',
        attributes: {},
        pointer: '',
        dataPointer: '/data',
        dataPath: ['data'],
      },
    ]);
  });

  it('says where each event of a batch has its data in the body', () => {
    const { events } = parseEnvelopes(
      [
        { type: 'a', data: 1 },
        { type: 'b', data: null },
      ],
      10,
    );
    expect(events.map((e) => e.dataPath)).toEqual([
      ['0', 'data'],
      ['1', 'data'],
    ]);
  });

  it('rejects an empty batch and a batch over the limit', () => {
    expect(problemOf(() => parseEnvelopes([], 10)).status).toBe(400);
    expect(problemOf(() => parseEnvelopes(new Array(11).fill({ type: 'a', data: 1 }), 10)).status).toBe(413);
  });

  it('lists every envelope error of a batch with its pointer', () => {
    const problem = problemOf(() =>
      parseEnvelopes([{ type: 'ok', data: {} }, { data: {} }, { type: 'x y', data: 1, extra: true }, 'str'], 10),
    );
    expect(problem.status).toBe(400);
    expect(problem.errors?.map((e) => e.pointer)).toEqual(['/1/type', '/2/extra', '/2/type', '/3']);
  });

  it('requires data to be present, though it may be null', () => {
    expect(problemOf(() => parseEnvelopes({ type: 'a' }, 10)).errors?.[0]?.pointer).toBe('/data');
    expect(parseEnvelopes({ type: 'a', data: null }, 10).events[0]?.data).toBeNull();
  });
});

describe('parseJsonBody', () => {
  it('rejects empty, non-UTF-8 and malformed bodies with 400', () => {
    expect(problemOf(() => parseJsonBody(Buffer.alloc(0))).status).toBe(400);
    expect(problemOf(() => parseJsonBody(Buffer.from([0x7b, 0xff, 0x7d]))).detail).toMatch(/UTF-8/);
    expect(problemOf(() => parseJsonBody(Buffer.from('{"a":'))).status).toBe(400);
  });

  it('refuses bodies nested deeper than the limit, counting only outside strings', () => {
    expect(problemOf(() => parseJsonBody(Buffer.from(`${'['.repeat(65)}${']'.repeat(65)}`))).detail).toMatch(/nest/);
    expect(parseJsonBody(Buffer.from(`${'['.repeat(64)}${']'.repeat(64)}`))).toBeDefined();
    expect(parseJsonBody(Buffer.from(`{"a":"${'['.repeat(500)}"}`))).toEqual({ a: '['.repeat(500) });
    expect(jsonNestingDepth(JSON.parse('{"a":[{"b":"}]\\"}"}], "c": {"d": [[1]]}}'), 100)).toBe(4);
  });

  it('refuses a body nested far too deep for any recursive reader with 400, not a crash', () => {
    const depth = 200_000;
    const problem = problemOf(() => parseJsonBody(Buffer.from(`{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`)));
    expect(problem.status).toBe(400);
    expect(problem.detail).toMatch(/nest at most 64/);
  });

  it('refuses lone surrogate escapes, in keys and values at any depth, and keeps paired ones', () => {
    for (const body of ['{"a":"x\\ud800"}', '{"a":[{"b":"\\udfff"}]}', '{"\\ud83d":1}']) {
      const problem = problemOf(() => parseJsonBody(Buffer.from(body)));
      expect([problem.status, problem.title]).toEqual([400, 'Invalid Unicode escape']);
    }
    expect(parseJsonBody(Buffer.from('{"a":"\\ud83d\\ude00"}'))).toEqual({ a: '\u{1F600}' });
    expect(illFormedString({ a: ['ok', { b: 'x\udc00' }] })).toBe('x\udc00');
    expect(illFormedString({ a: ['ok', { b: 1 }] })).toBeNull();
  });

  it('keeps a __proto__ key as plain data without touching prototypes', () => {
    const parsed = parseJsonBody(Buffer.from('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
