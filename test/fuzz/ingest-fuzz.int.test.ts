import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AppProcess, TestDatabase } from '@orchestron/testing';
import { FUZZ_WEBHOOK_SECRET, WRONG_SHAPES, rssBytes, startHostileTarget, type HostileTarget } from './harness';

// Hardening: thousands of malformed, oversized, wrongly encoded, deeply nested,
// wrongly typed, mis-signed and prototype-polluting requests against a real ingest process.
// None may get a 5xx, crash it, write a row, grow its memory without bound, or put a
// secret or payload into its logs. Deterministic (seeded), bounded in count and time.

const REQUESTS = 3_000;
const CONCURRENCY = 8;
const TIME_LIMIT_MS = 90_000;
const WEBHOOK_SECRET = FUZZ_WEBHOOK_SECRET;
const PAYLOAD_MARKER = 'PAYLOAD-MARKER-5d1e';

let target: HostileTarget;
let database: TestDatabase;
let ingest: AppProcess;
let apiKey: string;

/** mulberry32: a small seeded PRNG, so a failure can be reproduced. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface FuzzRequest {
  kind: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const validEvent = (marker: string) => ({
  type: 'payment.succeeded',
  data: { payment_id: 'p1', amount: 5, currency: 'EUR', metadata: { note: marker } },
});

function makeRequest(random: () => number, i: number): FuzzRequest {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const auth = { authorization: `Bearer ${apiKey}` };
  const json = { 'content-type': 'application/json', ...auth };
  const valid = JSON.stringify(validEvent(PAYLOAD_MARKER));
  const kinds: Array<() => FuzzRequest> = [
    // Truncated JSON: every prefix of a valid body is malformed.
    () => ({
      kind: 'truncated',
      path: '/events',
      headers: json,
      body: Buffer.from(valid.slice(0, 1 + Math.floor(random() * (valid.length - 2)))),
    }),
    // Random bytes.
    () => ({
      kind: 'random-bytes',
      path: '/events',
      headers: json,
      body: Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256))),
    }),
    // Invalid UTF-8 inside an otherwise valid document.
    () => ({
      kind: 'bad-utf8',
      path: '/events',
      headers: json,
      body: Buffer.concat([
        Buffer.from(valid.slice(0, 20)),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from(valid.slice(20)),
      ]),
    }),
    // UTF-16 with a byte order mark.
    () => ({ kind: 'utf16', path: '/events', headers: json, body: Buffer.from(`\ufeff${valid}`, 'utf16le') }),
    // A charset other than UTF-8.
    () => ({
      kind: 'latin1',
      path: '/events',
      headers: { ...json, 'content-type': 'application/json; charset=iso-8859-1' },
      body: Buffer.from(valid),
    }),
    // Wrong content types.
    () => ({
      kind: 'content-type',
      path: '/events',
      headers: {
        ...auth,
        'content-type': pick([
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
          '',
        ]),
      },
      body: Buffer.from(valid),
    }),
    // Deeply nested documents, within and far beyond the size limit.
    () => {
      const depth = pick([65, 500, 5_000, 50_000]);
      return {
        kind: 'deep',
        path: '/events',
        headers: json,
        body: Buffer.from(`{"type":"payment.succeeded","data":${'['.repeat(depth)}${']'.repeat(depth)}}`),
      };
    },
    // Text Postgres cannot store in an otherwise valid event: a lone surrogate escape or a NUL,
    // in the data or in a key.
    () => ({
      kind: 'unstorable-text',
      path: '/events',
      headers: json,
      body: Buffer.from(
        valid.replace(`"note":"`, `"note":"${pick(['\\ud800', 'x\\udfff', '\\u0000', '\\ud83d\\u0041'])}`),
      ),
    }),
    // Oversized bodies and batches.
    () => ({
      kind: 'oversized',
      path: '/events',
      headers: json,
      body: Buffer.from(JSON.stringify({ ...validEvent('x'), pad: 'x'.repeat(70_000) })),
    }),
    () => ({
      kind: 'huge-batch',
      path: '/events',
      headers: json,
      body: Buffer.from(JSON.stringify(Array.from({ length: 101 }, () => ({ type: 'x', data: 1 })))),
    }),
    // Prototype-polluting keys in the envelope and in the data (data with a schema violation).
    () => ({
      kind: 'proto-envelope',
      path: '/events',
      headers: json,
      body: Buffer.from(
        `{"type":"payment.succeeded","data":{},"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}`,
      ),
    }),
    () => ({
      kind: 'proto-data',
      path: '/events',
      headers: json,
      body: Buffer.from(
        `{"type":"payment.succeeded","data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"amount":"NaN"}}`,
      ),
    }),
    // Wrong shapes that parse as JSON.
    () => ({
      kind: 'shapes',
      path: '/events',
      headers: json,
      body: Buffer.from(pick(WRONG_SHAPES)),
    }),
    // Unknown types and schema violations.
    () => ({
      kind: 'schema',
      path: '/events',
      headers: json,
      body: Buffer.from(
        JSON.stringify({
          type: pick(['no.such.type', 'payment.succeeded']),
          data: { payment_id: 7, amount: -1, currency: 'euro', note: PAYLOAD_MARKER },
        }),
      ),
    }),
    // Authentication: none, wrong, malformed, oversized, control characters.
    () => ({
      kind: 'auth',
      path: '/events',
      headers: {
        'content-type': 'application/json',
        ...pick<Record<string, string>>([
          {},
          { authorization: 'Bearer orc_wrong' },
          { authorization: 'Basic Zm9vOmJhcg==' },
          { authorization: `Bearer ${'A'.repeat(8_000)}` },
          { 'x-api-key': '' },
        ]),
      },
      body: Buffer.from(valid),
    }),
    // Mis-signed webhooks: no signature, wrong secret, tampered body, garbage header.
    () => {
      const body = Buffer.from(JSON.stringify({ action: 'opened', note: PAYLOAD_MARKER }));
      const wrong = createHmac('sha256', 'not-the-secret').update(body).digest('hex');
      const right = createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex');
      const signature = pick([
        '',
        `sha256=${wrong}`,
        `sha256=${right.slice(0, 10)}`,
        'sha256=zz',
        `sha1=${right}`,
        `sha256=${right}`.padEnd(5_000, 'f'),
      ]);
      const tampered = random() < 0.3;
      return {
        kind: 'webhook',
        path: pick([
          '/webhooks/github',
          '/webhooks/nope',
          '/webhooks/__proto__',
          '/webhooks/%00',
          '/webhooks/constructor',
        ]),
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issues',
          'x-github-delivery': `d-${i}`,
          ...(signature ? { 'x-hub-signature-256': signature } : {}),
        },
        body: tampered ? Buffer.from(body.toString().replace('opened', 'closed')) : body,
      };
    },
    // Odd methods and paths.
    () => ({
      kind: 'routes',
      path: pick(['/events/', '/events?x=%zz', '/%2e%2e/etc/passwd', '/events/../events', `/${'a'.repeat(4_000)}`]),
      headers: json,
      body: Buffer.from(valid.slice(0, 5)),
    }),
  ];
  return pick(kinds)();
}

/** Sends raw requests (headers Node's fetch would refuse included) and resolves with the status. */
function send(url: URL, request: FuzzRequest): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: request.path,
        headers: { ...request.headers, 'content-length': String(request.body.length) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    // A request Node's client refuses to send (e.g. an invalid header) or the server cuts off.
    req.on('error', () => resolve(-1));
    req.end(request.body);
  });
}

beforeAll(async () => {
  target = await startHostileTarget('fuzz', { ORCHESTRON_LOG_LEVEL: 'debug' });
  ({ database, ingest, apiKey } = target);
});

afterAll(async () => {
  await target?.stop();
});

describe('ingest under hostile input', () => {
  it('answers every malformed request with a 4xx, writes nothing, keeps memory flat and logs no secret', async () => {
    const random = prng(20261126);
    const url = new URL(ingest.url);
    const requests = Array.from({ length: REQUESTS }, (_, i) => makeRequest(random, i));
    const statuses = new Map<string, Map<number, number>>();
    const deadline = Date.now() + TIME_LIMIT_MS;
    let next = 0;
    let baselineRss = 0;

    const worker = async (): Promise<void> => {
      while (next < requests.length && Date.now() < deadline) {
        const request = requests[next++] as FuzzRequest;
        const status = await send(url, request);
        const byStatus = statuses.get(request.kind) ?? new Map<number, number>();
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        statuses.set(request.kind, byStatus);
        if (next === 500) baselineRss = await rssBytes(ingest.url);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(next).toBe(REQUESTS);

    const summary = Object.fromEntries([...statuses].map(([kind, m]) => [kind, Object.fromEntries(m)]));
    const serverErrors = [...statuses].flatMap(([kind, m]) =>
      [...m].filter(([s]) => s >= 500 || s === 0).map(([s, n]) => `${kind}: ${n} x ${s}`),
    );
    if (process.env.FUZZ_SUMMARY) process.stdout.write(`${JSON.stringify(summary)}\n`);
    expect({ serverErrors, summary }).toEqual({ serverErrors: [], summary });

    // Still alive and healthy, nothing stored.
    expect((await fetch(`${ingest.url}/health`)).status).toBe(200);
    const [events] = (await database.db('events').count({ n: '*' })) as Array<{ n: number }>;
    const [outbox] = (await database.db('outbox').count({ n: '*' })) as Array<{ n: number }>;
    expect([Number(events?.n), Number(outbox?.n)]).toEqual([0, 0]);

    // Memory: no growth with the number of requests beyond allocator noise.
    const finalRss = await rssBytes(ingest.url);
    expect(finalRss).toBeLessThan(baselineRss * 1.5 + 32 * 1024 * 1024);

    // Logs: no webhook secret, no API key, no payload content.
    const logs = ingest.output();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(WEBHOOK_SECRET);
    expect(logs).not.toContain(apiKey);
    expect(logs).not.toContain(PAYLOAD_MARKER);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
