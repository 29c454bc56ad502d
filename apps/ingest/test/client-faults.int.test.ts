import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { generateApiKey, insertApiKey } from '@orchestron/db';
import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { baseSettings, rowCounts, startInProcessIngest, type InProcessIngest } from './in-process-ingest';

// Issue #12, "What was seen" 5, 6 and 8: every client fault is a 4xx problem document with the
// request id, and nothing is stored for it.

let database: TestDatabase;
let ingest: InProcessIngest;
let kafkaIngest: InProcessIngest;
let apiKey: string;

const event = (data: string) => `{"type":"sample.thing","data":${data}}`;
const order = (extra = '') => event(`{"order_id":"o1","total":5${extra}}`);

beforeAll(async () => {
  database = await createTestDatabase('client_faults');
  const material = generateApiKey();
  apiKey = material.key;
  await insertApiKey(database.db, {
    name: 'valid',
    keyHash: material.hash,
    keyPrefix: material.prefix,
    roles: ['ingest'],
    allowedSources: ['*'],
    allowedTypes: ['*'],
  });
  ingest = await startInProcessIngest(database, {
    acceptUnknownTypesFrom: ['*'],
    authFailureLimit: 5,
    authFailureWindowMs: 60_000,
  });
  kafkaIngest = await startInProcessIngest(database, {
    acceptUnknownTypesFrom: ['*'],
    maxMessageBytes: { kafka: 4 * 1024, rabbitmq: 1024 * 1024 },
    routing: { ...baseSettings.routing, broker: 'kafka' },
  });
});

afterAll(async () => {
  await ingest?.stop();
  await kafkaIngest?.stop();
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events cascade');
});

async function expectProblem(response: Response, status: number, type?: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  expect({ status: response.status, text }).toEqual({ status, text: expect.any(String) as string });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(text) as Record<string, unknown>;
  expect(problem.request_id).toBe(response.headers.get('x-request-id'));
  if (type) expect(problem.type).toBe(`https://orchestron.dev/problems/${type}`);
  return problem;
}

const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}, base = ingest.url) =>
  fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe('bodies that are not what their Content-Encoding says', () => {
  const valid = Buffer.from(order());
  const gzip = gzipSync(valid);
  const cases: Array<[string, string, Buffer]> = [
    ['not gzip at all', 'gzip', Buffer.from('plainly not gzip')],
    ['truncated gzip', 'gzip', gzip.subarray(0, gzip.length - 6)],
    [
      'gzip with a corrupt middle',
      'gzip',
      Buffer.concat([gzip.subarray(0, 12), Buffer.alloc(8, 0xff), gzip.subarray(20)]),
    ],
    ['not deflate', 'deflate', Buffer.from('xx')],
    ['truncated deflate', 'deflate', deflateSync(valid).subarray(0, 5)],
    ['not br', 'br', Buffer.from('xxxxxxxxxxxx')],
    ['truncated br', 'br', brotliCompressSync(valid).subarray(0, 4)],
  ];
  it.each(cases)('answers %s with 400 invalid-content-encoding and stores nothing', async (_name, encoding, body) => {
    for (const path of ['/events', '/webhooks/open']) {
      await expectProblem(await post(path, body, { 'content-encoding': encoding }), 400, 'invalid-content-encoding');
    }
    expect(await rowCounts(database)).toEqual({ events: 0, outbox: 0 });
  });

  it('still accepts a well-formed gzip body', async () => {
    expect((await post('/events', gzip, { 'content-encoding': 'gzip' })).status).toBe(202);
  });
});

describe('paths with malformed percent-escapes', () => {
  it.each(['%ff', '%', '%zz', 'a%2', '%c0%af'])('answers /webhooks/%s with 400 malformed-path', async (escape) => {
    await expectProblem(await post(`/webhooks/${escape}`, order()), 400);
    expect(await rowCounts(database)).toEqual({ events: 0, outbox: 0 });
  });
});

describe('numbers', () => {
  it.each([
    ['1e131072', '1e131072'],
    ['1e-16384', '1e-16384'],
    ['-1e131072', '-1e131072'],
    ['1e401', '1e401'],
    ['1e-401', '1e-401'],
    ['0e-500', '0e-500'],
    ['a 1 and 1001 zeros', `1${'0'.repeat(1_001)}`],
    ['0. and 1001 digits', `0.${'1'.repeat(1_001)}`],
  ])('refuses %s with 422 number-out-of-bounds, never a 500', async (_name, number) => {
    for (const path of ['/events', '/webhooks/open']) {
      const problem = await expectProblem(await post(path, order(`,"n":${number}`)), 422, 'number-out-of-bounds');
      expect(String(problem.detail)).toMatch(/digits and exponent/);
    }
    expect(await rowCounts(database)).toEqual({ events: 0, outbox: 0 });
  });

  it('refuses the 141-byte request of ten 1e131071, which jsonb would store as 1.31 MB', async () => {
    const body = event(`[${Array(10).fill('1e131071').join(',')}]`);
    await expectProblem(await post('/events', body), 422, 'number-out-of-bounds');
    expect(await rowCounts(database)).toEqual({ events: 0, outbox: 0 });
  });

  it('refuses with 413 a body whose numbers, written out as stored, exceed max_payload_size', async () => {
    // 200 x "1e400," is 1.2 KB sent and 80 KB written out, over the 64 KB limit.
    const body = event(`[${Array(200).fill('1e400').join(',')}]`);
    const problem = await expectProblem(await post('/events', body), 413, 'payload-too-large');
    expect(String(problem.detail)).toMatch(/written out/);
    expect(await rowCounts(database)).toEqual({ events: 0, outbox: 0 });
  });

  it('stores numbers within the bounds with every digit, written out', async () => {
    const big = `1${'2'.repeat(300)}`;
    const response = await post('/events', order(`,"n":[1e3,${big},-2.50e-2,1E+2]`));
    expect(response.status).toBe(202);
    const [row] = await database.db('events').select(database.db.raw('payload::text as payload'));
    expect((row as { payload: string }).payload).toBe(
      `{"n": [1000, ${big}, -0.0250, 100], "total": 5, "order_id": "o1"}`,
    );
  });
});

describe("events larger than their broker's message limit", () => {
  it('refuses with 413 message-too-large an event routed to Kafka above api.max_message_size.kafka', async () => {
    const body = order(`,"pad":"${'x'.repeat(5_000)}"`);
    const problem = await expectProblem(await post('/events', body, {}, kafkaIngest.url), 413, 'message-too-large');
    expect(String(problem.detail)).toMatch(/kafka/);
    expect(await rowCounts(database)).toEqual({ events: 0, outbox: 0 });
  });

  it('refuses the one event of a batch that is too large, and so the whole batch', async () => {
    const batch = `[${order()},${order(`,"pad":"${'x'.repeat(5_000)}"`)}]`;
    const problem = await expectProblem(await post('/events', batch, {}, kafkaIngest.url), 413, 'message-too-large');
    expect(String(problem.detail)).toMatch(/^event 1 /);
    expect(await rowCounts(database)).toEqual({ events: 0, outbox: 0 });
  });

  it('measures each CloudEvent of a batch on its own', async () => {
    const cloudEvent = (id: string, pad: number) =>
      JSON.stringify({ specversion: '1.0', id, source: 'shop', type: 'sample.thing', data: { pad: 'x'.repeat(pad) } });
    const send = (pads: number[]) =>
      post(
        '/events',
        `[${pads.map((pad, i) => cloudEvent(`c${pads.length}-${i}`, pad)).join(',')}]`,
        {
          'content-type': 'application/cloudevents-batch+json',
        },
        kafkaIngest.url,
      );
    // Together over the limit, each under it: accepted.
    expect((await send([3_000, 3_000])).status).toBe(202);
    const problem = await expectProblem(await send([10, 10, 5_000]), 413, 'message-too-large');
    expect(String(problem.detail)).toMatch(/^event 2 /);
    expect(await rowCounts(database)).toEqual({ events: 2, outbox: 2 });
  });

  it('counts numbers as written out: 30 x 1e200 in 200 bytes is a 6 KB message', async () => {
    const body = event(`[${Array(30).fill('1e200').join(',')}]`);
    await expectProblem(await post('/events', body, {}, kafkaIngest.url), 413, 'message-too-large');
  });

  it('accepts events below the limit, and the same large event where its broker takes it', async () => {
    const body = order(`,"pad":"${'x'.repeat(3_000)}"`);
    expect((await post('/events', body, {}, kafkaIngest.url)).status).toBe(202);
    expect((await post('/events', order(`,"pad":"${'x'.repeat(5_000)}"`))).status).toBe(202);
  });
});

describe('failed authentication', () => {
  it('answers 429 with RateLimit headers after repeated failures from an address, still serving its valid key', async () => {
    const wrong = { authorization: 'Bearer orc_not_a_key' };
    for (let i = 0; i < 5; i++) await expectProblem(await post('/events', order(), wrong), 401, 'unauthorized');
    const limited = await post('/events', order(), wrong);
    await expectProblem(limited, 429, 'too-many-failed-authentications');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited.headers.get('ratelimit')).toMatch(/^limit=5, remaining=0, reset=\d+$/);
    expect(limited.headers.get('ratelimit-policy')).toBe('5;w=60');
    // Deliveries that need no key are not affected.
    expect((await post('/webhooks/open', order())).status).toBe(202);
    // A valid key behind the same address is not locked out.
    expect((await post('/events', order(), { authorization: `Bearer ${apiKey}` })).status).toBe(202);
    expect((await post('/events', order(), wrong)).status).toBe(429);
  });
});

describe('methods', () => {
  it.each([
    ['GET', '/events', 'POST, OPTIONS'],
    ['PUT', '/events', 'POST, OPTIONS'],
    ['DELETE', '/webhooks/open', 'POST, OPTIONS'],
    ['GET', '/webhooks/nope', 'POST, OPTIONS'],
    ['POST', '/health', 'GET, HEAD, OPTIONS'],
    ['PATCH', '/metrics', 'GET, HEAD, OPTIONS'],
  ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const response = await fetch(`${ingest.url}${path}`, { method });
    await expectProblem(response, 405, 'method-not-allowed');
    expect(response.headers.get('allow')).toBe(allow);
  });

  it.each([
    ['/events', 'POST, OPTIONS'],
    ['/webhooks/open', 'POST, OPTIONS'],
    ['/ready', 'GET, HEAD, OPTIONS'],
  ])('answers OPTIONS %s with 204 and Allow: %s', async (path, allow) => {
    const response = await fetch(`${ingest.url}${path}`, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('allow')).toBe(allow);
    expect(await response.text()).toBe('');
  });

  it('still answers 404 for paths it does not know', async () => {
    await expectProblem(await fetch(`${ingest.url}/nothing-here`, { method: 'PUT' }), 404, 'not-found');
  });
});
