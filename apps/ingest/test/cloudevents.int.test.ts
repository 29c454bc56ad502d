import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { generateApiKey, insertApiKey, notifyOutbox } from '@orchestron/db';
import { createLogger, createRegistry, ingestMetrics } from '@orchestron/observability';
import { SchemaRegistry } from '@orchestron/schemas';
import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { OutboxNotifier } from '../src/outbox-notifier';
import { createIngestApp, type IngestSettings } from '../src/app';
import { ApiKeyCache } from '@orchestron/http';

// POST /events with CloudEvents 1.0 in its three HTTP content modes, against a real Postgres.

const settings: IngestSettings = {
  maxPayloadBytes: 64 * 1024,
  maxBatchSize: 3,
  rateLimit: 0,
  rateLimitBurst: 0,
  trustProxy: false,
  requireApiKey: false,
  maxClockSkewMs: 300_000,
  routing: {
    broker: 'kafka',
    default_topic: 'events',
    default_exchange: 'events',
    default_routing_key: '#',
    rules: [],
  },
};

const signup = { user_id: 'u1', email: 'u1@example.com', signed_up_at: '2026-11-26T10:00:00Z' };

/** A structured CloudEvent of type user.signed_up (schema versions 1 and 2 in schemas/). */
const structured = (id: string, extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id,
  source: 'https://github.com/org/repo',
  type: 'user.signed_up',
  data: signup,
  ...extra,
});

const binaryHeaders = (id: string, extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': id,
  'ce-source': '/sensors/1',
  'ce-type': 'user.signed_up',
  ...extra,
});

let database: TestDatabase;
let schemasDir: string;
let server: http.Server;
let baseUrl: string;
let cache: ApiKeyCache;
let githubKey: string;

function post(body: string | Buffer, headers: Record<string, string>) {
  return fetch(`${baseUrl}/events`, { method: 'POST', body, headers });
}

const postStructured = (event: unknown, headers: Record<string, string> = {}) =>
  post(JSON.stringify(event), { 'content-type': 'application/cloudevents+json; charset=utf-8', ...headers });

const postBatch = (events: unknown) =>
  post(JSON.stringify(events), { 'content-type': 'application/cloudevents-batch+json' });

async function rowCounts(): Promise<{ events: number; outbox: number }> {
  const result = await database.db.raw<{ rows: Array<{ events: string; outbox: string }> }>(
    'select (select count(*) from events) as events, (select count(*) from outbox) as outbox',
  );
  const row = result.rows[0];
  return { events: Number(row?.events), outbox: Number(row?.outbox) };
}

async function storedEvent(id: string) {
  return database.db('events').where({ id }).first();
}

beforeAll(async () => {
  database = await createTestDatabase('ingest_cloudevents');
  // The repository's schemas plus a type whose data is opaque bytes (its schema takes the
  // base64 string ingest holds them as).
  schemasDir = mkdtempSync(path.join(os.tmpdir(), 'orchestron-schemas-'));
  cpSync(path.join(__dirname, '../../../schemas'), schemasDir, { recursive: true });
  mkdirSync(path.join(schemasDir, 'sensor.snapshot'));
  writeFileSync(
    path.join(schemasDir, 'sensor.snapshot', '1.json'),
    JSON.stringify({ type: 'string', contentEncoding: 'base64', maxLength: 1000 }),
  );
  const material = generateApiKey();
  await insertApiKey(database.db, {
    name: 'github',
    keyHash: material.hash,
    keyPrefix: material.prefix,
    roles: ['ingest'],
    allowedSources: ['https://github.com/org/*'],
    allowedTypes: ['*'],
  });
  githubKey = material.key;
  const logger = createLogger({ service: 'ingest', silent: !process.env.TEST_LOGS });
  cache = new ApiKeyCache(database.db, logger, { refreshMs: 60_000, flushMs: 60_000 });
  await cache.start();
  const registry = createRegistry('ingest');
  const app = createIngestApp({
    db: database.db,
    notifier: new OutboxNotifier(() => notifyOutbox(database.db), logger),
    apiKeys: cache,
    schemas: SchemaRegistry.loadFromDirectory(schemasDir),
    logger,
    registry,
    metrics: ingestMetrics(registry),
    settings,
  });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await cache.stop();
  await database.drop();
  rmSync(schemasDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await database.db.raw('truncate events cascade');
});

describe('POST /events with CloudEvents', () => {
  it('stores a structured CloudEvent: id as idempotency key, attributes as ce- headers, partitionkey as key', async () => {
    const response = await postStructured(
      structured('gh-1', {
        time: '2026-11-26T10:00:00Z',
        subject: 'pull/7',
        dataschema: 'https://schemas.example.com/signup.json',
        datacontenttype: 'application/json',
        partitionkey: 'repo-42',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        comexampleothervalue: 5,
      }),
      { traceparent: '00-11111111111111111111111111111111-2222222222222222-01' },
    );
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const event = await storedEvent(id);
    expect(event).toMatchObject({
      source: 'https://github.com/org/repo',
      type: 'user.signed_up',
      idempotency_key: 'gh-1',
      schema_version: 2,
      payload: signup,
    });
    expect(event.headers).toEqual({
      'ce-id': 'gh-1',
      'ce-subject': 'pull/7',
      'ce-dataschema': 'https://schemas.example.com/signup.json',
      'ce-traceparent': '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'ce-comexampleothervalue': '5',
      'content-type': 'application/json',
      time: '2026-11-26T10:00:00Z',
      traceparent: '00-11111111111111111111111111111111-2222222222222222-01',
      'request-id': response.headers.get('x-request-id'),
    });
    const outbox = await database.db('outbox').where({ event_id: id });
    expect(outbox).toEqual([
      expect.objectContaining({
        broker: 'kafka',
        destination: 'events',
        routing_key: 'user.signed_up',
        partition_key: 'repo-42',
      }),
    ]);
  });

  it('stores a binary-mode CloudEvent: percent-decoded ce-* headers as attributes, the body as data', async () => {
    const response = await post(
      JSON.stringify(signup),
      binaryHeaders('reading-1', {
        'ce-time': '2026-11-26T10:00:00+01:00',
        'ce-subject': 'Caf%C3%A9%20au%20lait',
        'ce-partitionkey': 'sensor-1',
        'ce-comexampleextension': 'value',
      }),
    );
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const event = await storedEvent(id);
    expect(event).toMatchObject({
      source: '/sensors/1',
      type: 'user.signed_up',
      idempotency_key: 'reading-1',
      schema_version: 2,
      payload: signup,
    });
    expect(event.headers).toMatchObject({
      'ce-id': 'reading-1',
      'ce-subject': 'Café au lait',
      'ce-comexampleextension': 'value',
      'content-type': 'application/json',
      time: '2026-11-26T10:00:00+01:00',
    });
    expect(event.headers).not.toHaveProperty('ce-partitionkey');
    expect(await database.db('outbox').where({ event_id: id }).first()).toMatchObject({ partition_key: 'sensor-1' });
  });

  it('stores opaque binary-mode data as base64, validated as that string, marked for relay to decode', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const response = await post(bytes, {
      ...binaryHeaders('snap-1', { 'ce-type': 'sensor.snapshot' }),
      'content-type': 'image/png',
    });
    expect(response.status).toBe(202);
    const event = await storedEvent(((await response.json()) as { id: string }).id);
    expect(event.payload).toBe(bytes.toString('base64'));
    expect(event.headers).toMatchObject({ 'content-type': 'image/png', 'payload-encoding': 'base64' });
  });

  it('stores a batch atomically and answers the ids in order', async () => {
    const response = await postBatch([structured('b-1'), structured('b-2', { source: 'urn:x:y' })]);
    expect(response.status).toBe(202);
    const { ids } = (await response.json()) as { ids: string[] };
    const rows = await database.db('events').select('id', 'source', 'idempotency_key').orderBy('id');
    expect(rows).toEqual([
      { id: ids[0], source: 'https://github.com/org/repo', idempotency_key: 'b-1' },
      { id: ids[1], source: 'urn:x:y', idempotency_key: 'b-2' },
    ]);
    expect(await rowCounts()).toEqual({ events: 2, outbox: 2 });
  });

  it("stores JSON data from the sender's text: numbers keep every digit, in structured, batch and binary mode", async () => {
    // Built by hand: JSON.stringify could not write these numbers.
    const event = (id: string, amount: string) =>
      `{"specversion":"1.0","id":"${id}","source":"https://github.com/org/repo","type":"payment.succeeded",` +
      `"data":{"payment_id":"${id}","amount":${amount},"currency":"EUR"}}`;
    const one = await post(event('big-1', '10000000000000000001'), {
      'content-type': 'application/cloudevents+json',
    });
    const batch = await post(`[${event('big-2', '20000000000000000003')},${event('big-3', '3')}]`, {
      'content-type': 'application/cloudevents-batch+json',
    });
    const binary = await post('{"payment_id":"big-4","amount":40000000000000000005,"currency":"EUR"}', {
      ...binaryHeaders('big-4', { 'ce-type': 'payment.succeeded' }),
    });
    expect([one.status, batch.status, binary.status]).toEqual([202, 202, 202]);
    const amounts = await database.db.raw<{ rows: Array<{ idempotency_key: string; amount: string }> }>(
      "select idempotency_key, payload ->> 'amount' as amount from events order by idempotency_key",
    );
    expect(amounts.rows).toEqual([
      { idempotency_key: 'big-1', amount: '10000000000000000001' },
      { idempotency_key: 'big-2', amount: '20000000000000000003' },
      { idempotency_key: 'big-3', amount: '3' },
      { idempotency_key: 'big-4', amount: '40000000000000000005' },
    ]);
  });

  it('answers a re-delivery of the same source and id with 200 and the original id, in any mode', async () => {
    const first = await postStructured(structured('dup-1', { source: '/sensors/1' }));
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    const again = await postStructured(structured('dup-1', { source: '/sensors/1' }));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id });
    const asBinary = await post(JSON.stringify(signup), binaryHeaders('dup-1'));
    expect(asBinary.status).toBe(200);
    expect(await asBinary.json()).toEqual({ id });
    // The same id from another source is another event.
    const otherSource = await post(JSON.stringify(signup), binaryHeaders('dup-1', { 'ce-source': '/sensors/2' }));
    expect(otherSource.status).toBe(202);
    expect(await rowCounts()).toEqual({ events: 2, outbox: 2 });
  });

  it("matches an API key's source globs against the CloudEvents source", async () => {
    const auth = { authorization: `Bearer ${githubKey}` };
    expect((await postStructured(structured('k-1'), auth)).status).toBe(202);
    const refused = await post(JSON.stringify(signup), { ...binaryHeaders('k-2'), ...auth });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: unknown[] }).errors).toEqual([
      { header: 'ce-source', message: 'source "/sensors/1" is not allowed for this key' },
    ]);
    expect(await rowCounts()).toEqual({ events: 1, outbox: 1 });
  });

  describe('rejects a bad CloudEvent with its status, a problem document pointing at the fault, and no row', () => {
    // Every case names the errors it expects, or null: a missing element would make jest pass
    // its `done` callback in that place.
    const cases: Array<[string, () => Promise<Response>, number, string, unknown[] | null]> = [
      [
        'a structured event without id and with an invalid extension name',
        () => postStructured({ ...structured('x'), id: undefined, My_Ext: 1 }),
        400,
        'invalid-cloudevent',
        [
          { pointer: '/id', message: 'is required' },
          { pointer: '/My_Ext', message: expect.stringContaining('extension attribute name') },
        ],
      ],
      [
        'a structured event of another specversion',
        () => postStructured(structured('x', { specversion: '0.3' })),
        400,
        'invalid-cloudevent',
        [{ pointer: '/specversion', message: expect.stringContaining('1.0') }],
      ],
      [
        'a structured event with both data and data_base64',
        () => postStructured(structured('x', { data_base64: 'AA==' })),
        400,
        'invalid-cloudevent',
        [{ pointer: '/data_base64', message: expect.any(String) }],
      ],
      [
        'a binary event with a bad attribute header',
        () => post(JSON.stringify(signup), binaryHeaders('x', { 'ce-time': 'yesterday' })),
        400,
        'invalid-cloudevent',
        [{ header: 'ce-time', message: expect.stringContaining('RFC 3339') }],
      ],
      [
        'a binary event with malformed JSON data',
        () => post('{"user_id":', binaryHeaders('x')),
        400,
        'malformed-json',
        null,
      ],
      [
        'a binary event with data but no Content-Type',
        () => {
          const { 'content-type': _omitted, ...headers } = binaryHeaders('x');
          // A Buffer, not a string: fetch would add text/plain for a string body.
          return post(Buffer.from(JSON.stringify(signup)), headers);
        },
        415,
        'unsupported-media-type',
        null,
      ],
      [
        'an event format other than JSON',
        () => post(JSON.stringify(structured('x')), { 'content-type': 'application/cloudevents+avro' }),
        415,
        'unsupported-media-type',
        null,
      ],
      ['an empty batch', () => postBatch([]), 400, 'empty-batch', null],
      [
        'a batch over max_batch_size',
        () => postBatch([1, 2, 3, 4].map((n) => structured(`b${n}`))),
        413,
        'batch-too-large',
        null,
      ],
      [
        'a batch with one invalid event',
        () => postBatch([structured('b1'), structured('b2', { type: 'not valid' })]),
        400,
        'invalid-cloudevent',
        [{ pointer: '/1/type', message: expect.any(String) }],
      ],
      [
        'a batch with one schema violation',
        () => postBatch([structured('b1'), structured('b2', { data: { ...signup, email: 'nope' } })]),
        422,
        'schema-validation',
        [{ pointer: '/1/data/email', message: expect.any(String) }],
      ],
      [
        'a structured event whose data_base64 JSON violates the schema',
        () =>
          postStructured(
            structured('x', {
              data: undefined,
              datacontenttype: 'application/json',
              data_base64: Buffer.from(JSON.stringify({ ...signup, email: 'nope' })).toString('base64'),
            }),
          ),
        422,
        'schema-validation',
        [{ pointer: '/data_base64', message: expect.stringMatching(/^at \/email: /) }],
      ],
      [
        'a binary event whose body violates the schema',
        () => post(JSON.stringify({ ...signup, email: 'nope' }), binaryHeaders('x')),
        422,
        'schema-validation',
        [{ pointer: '/email', message: expect.any(String) }],
      ],
      [
        'a binary event of an unknown type',
        () => post(JSON.stringify(signup), binaryHeaders('x', { 'ce-type': 'no.such.type' })),
        422,
        'unknown-event-type',
        [{ header: 'ce-type', message: expect.any(String) }],
      ],
      [
        'opaque data for a type whose schema wants JSON',
        () => post('plain text', { ...binaryHeaders('x'), 'content-type': 'text/plain' }),
        422,
        'schema-validation',
        [{ pointer: '', message: 'must be object' }],
      ],
      [
        'a binary event time in the future',
        () =>
          post(
            JSON.stringify(signup),
            binaryHeaders('x', { 'ce-time': new Date(Date.now() + 3_600_000).toISOString() }),
          ),
        422,
        'schema-validation',
        [{ header: 'ce-time', message: 'must not be in the future' }],
      ],
    ];

    it.each(cases)('%s', async (_name, send, status, slug, errors) => {
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as Record<string, unknown>;
      expect(problem).toMatchObject({ status, type: `https://orchestron.dev/problems/${slug}` });
      if (errors !== null) expect(problem.errors).toEqual(errors);
      expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
    });
  });

  it('still reads application/json without ce-* headers as the native envelope', async () => {
    const response = await post(JSON.stringify({ type: 'user.signed_up', data: signup }), {
      'content-type': 'application/json',
    });
    expect(response.status).toBe(202);
    const event = await storedEvent(((await response.json()) as { id: string }).id);
    expect(event).toMatchObject({ source: 'default', idempotency_key: null });
  });
});
