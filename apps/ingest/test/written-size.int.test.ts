import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { scanJsonText, writtenOutLength } from '../src/written-size';

// The sizes ingest computes for what it stores and the relays publish must be Postgres's own:
// each is checked against `jsonb::text`, which is what the relays select and publish.

const LIMITS = { maxDigits: 1_000, maxExponent: 400 };
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('written_size');
});

afterAll(async () => {
  await database.drop();
});

async function postgresText(json: string): Promise<string> {
  const result = await database.db.raw<{ rows: Array<{ text: string }> }>('select ?::jsonb::text as text', [json]);
  return (result.rows[0] as { text: string }).text;
}

describe('writtenOutLength', () => {
  const literals = [
    '0',
    '-0',
    '1',
    '-1',
    '10',
    '1.5',
    '1.50',
    '-2.50',
    '0.001',
    '1e3',
    '1E3',
    '1e+3',
    '1e-3',
    '-1e-3',
    '1.5e1',
    '1.50e1',
    '1.5e-1',
    '123.456e2',
    '123.456e-5',
    '0e5',
    '0e-5',
    '0.0e0',
    '0.000e2',
    '1e0',
    '1.0e0',
    '12345678901234567890',
    '1e400',
    '1e-400',
    '9.99e-400',
    `1${'0'.repeat(999)}`,
    `0.${'5'.repeat(999)}`,
    '5e-324',
    '1.7976931348623157e308',
    '-123e-2',
    '7e1',
  ];
  it.each(literals)('gives the length Postgres writes %s out with', async (literal) => {
    expect(writtenOutLength(literal, LIMITS)).toBe((await postgresText(literal)).length);
  });

  it.each(['1e401', '1e-401', `1${'0'.repeat(1_000)}`, '1e131072'])('refuses %s with a 422', (literal) => {
    expect(() => writtenOutLength(literal, LIMITS)).toThrow(expect.objectContaining({ status: 422 }) as Error);
  });
});

describe('scanJsonText', () => {
  const compact = [
    '{"a":1,"b":[1,2,3],"c":{"d":"e"}}',
    '{"n":1e3,"s":"1e300 inside a string, \\"quoted\\" too","m":[1.5e2,-0]}',
    '{"unicode":"\u00e9\u6f22\ud83d\ude00","k":"v"}',
    '[{"type":"a","data":{"x":1e2}},{"type":"b","data":[1,2]}]',
  ];
  it.each(compact)('measures %s exactly as Postgres prints it', async (document) => {
    expect(scanJsonText(document, LIMITS).totalBytes).toBe(Buffer.byteLength(await postgresText(document)));
  });

  // Whitespace the sender added, and escapes Postgres decodes (\u00e9 to é), only shrink its text.
  const loose = ['  {"spaced" :  [ 1 , 2 ] }  ', '{"escaped":"\\u00e9\\/"}'];
  it.each(loose)('measures %s no smaller than Postgres prints it', async (document) => {
    expect(scanJsonText(document, LIMITS).totalBytes).toBeGreaterThanOrEqual(
      Buffer.byteLength(await postgresText(document)),
    );
  });

  it('measures each element of a batch on its own', async () => {
    const elements = ['{"type":"a","data":{"x":1e2}}', '{"type":"b","data":[1,2,"\u00e9"]}'];
    const facts = scanJsonText(`[${elements.join(',')}]`, LIMITS);
    expect(facts.elementBytes).toEqual(
      await Promise.all(elements.map(async (e) => Buffer.byteLength(await postgresText(e)))),
    );
  });
});
