import type { AddressInfo } from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { notifyOutbox, OUTBOX_CHANNEL } from '@orchestron/db';
import { createRegistry, createLogger, ingestMetrics } from '@orchestron/observability';
import { SchemaRegistry } from '@orchestron/schemas';
import { createTestDatabase, listenForOutboxNotices, type OutboxNotices, type TestDatabase } from '@orchestron/testing';
import { OutboxNotifier } from '../src/outbox-notifier';
import { createIngestApp, type IngestSettings } from '../src/app';
import { ApiKeyCache } from '@orchestron/http';

const settings: IngestSettings = {
  maxPayloadBytes: 64 * 1024,
  maxBatchSize: 100,
  rateLimit: 0,
  rateLimitBurst: 0,
  trustProxy: false,
  requireApiKey: false,
  maxClockSkewMs: 300_000,
  routing: {
    broker: 'rabbitmq',
    default_topic: 'events',
    default_exchange: 'events',
    default_routing_key: '#',
    rules: [],
  },
};

const signup = (n: number) => ({
  type: 'user.signed_up',
  data: { user_id: `u${n}`, email: `u${n}@example.com`, signed_up_at: '2026-11-26T10:00:00Z' },
});

let database: TestDatabase;
let server: http.Server;
let baseUrl: string;
const caches: ApiKeyCache[] = [];

async function startIngest(
  overrides: Partial<IngestSettings> = {},
  notifyAlone: () => Promise<void> = () => notifyOutbox(database.db),
): Promise<{ server: http.Server; url: string }> {
  const registry = createRegistry('ingest');
  const logger = createLogger({ service: 'ingest', silent: !process.env.TEST_LOGS });
  const apiKeys = new ApiKeyCache(database.db, logger, { refreshMs: 60_000, flushMs: 60_000 });
  await apiKeys.start();
  caches.push(apiKeys);
  const app = createIngestApp({
    db: database.db,
    notifier: new OutboxNotifier(notifyAlone, logger),
    apiKeys,
    schemas: SchemaRegistry.loadFromDirectory(path.join(__dirname, '../../../schemas')),
    logger,
    registry,
    metrics: ingestMetrics(registry),
    settings: { ...settings, ...overrides },
  });
  const s = http.createServer(app);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

async function rowCounts(): Promise<{ events: number; outbox: number }> {
  const result = await database.db.raw<{ rows: Array<{ events: string; outbox: string }> }>(
    'select (select count(*) from events) as events, (select count(*) from outbox) as outbox',
  );
  const row = result.rows[0];
  return { events: Number(row?.events), outbox: Number(row?.outbox) };
}

function post(body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return fetch(`${baseUrl}/events`, { method: 'POST', body, headers });
}

beforeAll(async () => {
  database = await createTestDatabase('ingest');
  ({ server, url: baseUrl } = await startIngest());
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await Promise.all(caches.map((c) => c.stop()));
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events cascade');
});

describe('POST /events', () => {
  it('stores one event and its outbox row and answers 202 with the event id', async () => {
    const response = await post(JSON.stringify(signup(1)));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const event = await database.db('events').where({ id }).first();
    expect(event).toMatchObject({ type: 'user.signed_up', source: 'default', schema_version: 2 });
    const outbox = await database.db('outbox').where({ event_id: id });
    expect(outbox).toEqual([
      expect.objectContaining({
        broker: 'rabbitmq',
        destination: 'events',
        routing_key: 'user.signed_up',
        status: 'pending',
      }),
    ]);
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  it('answers with a JSON body, its media type and length declared', async () => {
    const response = await post(JSON.stringify(signup(1)));
    const text = await response.text();
    expect(response.status).toBe(202);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(JSON.parse(text)).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('stores a batch atomically and returns the ids in order', async () => {
    const response = await post(JSON.stringify([signup(1), signup(2), signup(3)]));
    expect(response.status).toBe(202);
    const { ids } = (await response.json()) as { ids: string[] };
    expect(ids).toHaveLength(3);
    const stored = await database.db('events').select('id', 'payload').orderBy('id');
    expect(stored.map((e: { id: string }) => e.id)).toEqual(ids);
    expect(await rowCounts()).toEqual({ events: 3, outbox: 3 });
  });

  it('answers a re-delivery of the same sender id with 200 and the original id, storing nothing new', async () => {
    const event = { ...signup(1), id: 'delivery-1', source: 'crm' };
    const first = (await (await post(JSON.stringify(event))).json()) as { id: string };
    const again = await post(JSON.stringify(event));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: first.id });
    expect(await rowCounts()).toEqual({ events: 1, outbox: 1 });
  });

  it('uses the Idempotency-Key header as the key of an event without an id', async () => {
    const headers = { 'content-type': 'application/json', 'idempotency-key': 'order-77' };
    const first = await post(JSON.stringify(signup(1)), headers);
    const again = await post(JSON.stringify(signup(1)), headers);
    expect([first.status, again.status]).toEqual([202, 200]);
    expect(await again.json()).toEqual(await first.json());
    const batch = await post(JSON.stringify([signup(2), signup(3)]), { ...headers, 'idempotency-key': 'b-1' });
    const batchAgain = await post(JSON.stringify([signup(2), signup(3)]), { ...headers, 'idempotency-key': 'b-1' });
    expect([batch.status, batchAgain.status]).toEqual([202, 200]);
    expect(await rowCounts()).toEqual({ events: 3, outbox: 3 });
  });

  it('accepts concurrent duplicate deliveries once: one row, one 202, the same id for all', async () => {
    const event = JSON.stringify({ ...signup(1), id: 'race-1', source: 'crm' });
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(event)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id)));
    expect(ids.size).toBe(1);
    expect(await rowCounts()).toEqual({ events: 1, outbox: 1 });
  });

  it('keeps an accepted event intact, __proto__ keys included', async () => {
    const response = await post(
      '{"type":"payment.succeeded","data":{"payment_id":"p1","amount":5,"currency":"EUR","metadata":{"__proto__":"x"}}}',
    );
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const event = await database.db('events').where({ id }).first();
    expect(JSON.stringify(event.payload)).toBe(
      '{"amount":5,"currency":"EUR","metadata":{"__proto__":"x"},"payment_id":"p1"}',
    );
  });

  it("stores the payload from the sender's text: numbers keep every digit, batches keep each event's own", async () => {
    const body = `[${[1, 2]
      .map(
        (n) =>
          `{"type":"payment.succeeded","data":{"payment_id":"p${n}","amount":${n}0000000000000000000.50,"currency":"EUR"}}`,
      )
      .join(',')}]`;
    const response = await post(body);
    expect(response.status).toBe(202);
    const { ids } = (await response.json()) as { ids: string[] };
    const stored = await database.db.raw<{ rows: Array<{ id: string; payload: string }> }>(
      'select id, payload::text from events order by id',
    );
    expect(stored.rows).toEqual([
      { id: ids[0], payload: '{"amount": 10000000000000000000.50, "currency": "EUR", "payment_id": "p1"}' },
      { id: ids[1], payload: '{"amount": 20000000000000000000.50, "currency": "EUR", "payment_id": "p2"}' },
    ]);
  });

  describe('rejects bad input with its status, a problem document, and no row', () => {
    const cases: Array<[string, () => Promise<Response>, number, string]> = [
      ['malformed JSON', () => post('{"type": "user.signed_up", "data": '), 400, 'malformed-json'],
      ['invalid UTF-8', () => post(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])), 400, 'malformed-json'],
      [
        'a wrong content type',
        () => post(JSON.stringify(signup(1)), { 'content-type': 'text/plain' }),
        415,
        'unsupported-media-type',
      ],
      ['no content type', () => post(JSON.stringify(signup(1)), {}), 415, 'unsupported-media-type'],
      [
        'a body over max_payload_size',
        () => post(JSON.stringify({ ...signup(1), pad: 'x'.repeat(70_000) })),
        413,
        'payload-too-large',
      ],
      [
        'a schema violation',
        () => post(JSON.stringify({ type: 'user.signed_up', data: { user_id: 'u1', email: 'nope' } })),
        422,
        'schema-validation',
      ],
      [
        'an unknown event type',
        () => post(JSON.stringify({ type: 'no.such.type', data: {} })),
        422,
        'unknown-event-type',
      ],
      ['an empty batch', () => post('[]'), 400, 'empty-batch'],
      [
        'a NUL character in the data',
        () => post('{"type":"payment.succeeded","data":{"payment_id":"p\\u0000","amount":1,"currency":"EUR"}}'),
        400,
        'unstorable-text',
      ],
      [
        'an event time in the future',
        () => post(JSON.stringify({ ...signup(1), time: new Date(Date.now() + 3_600_000).toISOString() })),
        422,
        'schema-validation',
      ],
      ['an envelope without type', () => post(JSON.stringify({ data: {} })), 400, 'invalid-envelope'],
      [
        'a batch with one bad event',
        () => post(JSON.stringify([signup(1), { type: 'user.signed_up', data: {} }])),
        422,
        'schema-validation',
      ],
    ];

    it.each(cases)('%s', async (_name, send, status, slug) => {
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as Record<string, unknown>;
      expect(problem).toMatchObject({ status, type: `https://orchestron.dev/problems/${slug}` });
      expect(problem.request_id).toBe(response.headers.get('x-request-id'));
      expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
    });
  });

  it('lists every schema violation of a batch with its JSON path', async () => {
    const response = await post(
      JSON.stringify([
        { type: 'order.created', data: { order_id: 'o1', customer_id: 'c', total: -1, currency: 'eur', items: [] } },
        signup(1),
        { type: 'user.signed_up', schema_version: 1, data: { user_id: 'u', email: 'bad' } },
      ]),
    );
    expect(response.status).toBe(422);
    const problem = (await response.json()) as { errors: Array<{ pointer: string }> };
    expect(problem.errors.map((e) => e.pointer).sort()).toEqual([
      '/0/data/currency',
      '/0/data/items',
      '/0/data/total',
      '/2/data/email',
    ]);
  });

  it('answers 429 with RateLimit and Retry-After headers over the limit', async () => {
    const limited = await startIngest({ rateLimit: 2, rateLimitBurst: 1 });
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 6; i++) {
        last = await fetch(`${limited.url}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(signup(i)),
        });
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 3)).toEqual([202, 202, 202]);
      expect(statuses).toContain(429);
      expect(last?.headers.get('retry-after')).toBe('1');
      expect(last?.headers.get('ratelimit-policy')).toBe('3;w=1');
      expect(last?.headers.get('ratelimit')).toMatch(/^limit=3, remaining=0, reset=1$/);
    } finally {
      await new Promise((resolve) => limited.server.close(resolve));
    }
  });
});

describe('waking the relays', () => {
  let notices: OutboxNotices;

  beforeAll(async () => {
    notices = await listenForOutboxNotices(database.url);
  });

  afterAll(async () => {
    await notices.close();
  });

  it('NOTIFYs after accepting new events, and not for a re-delivery', async () => {
    await notices.takeWithin(0);
    const event = JSON.stringify({ ...signup(1), id: 'wake-1', source: 'crm' });
    expect((await post(event)).status).toBe(202);
    expect(await notices.takeWithin(300)).toEqual([OUTBOX_CHANNEL]);
    expect((await post(event)).status).toBe(200);
    expect(await notices.takeWithin(300)).toEqual([]);
  });

  it("has a lone request's own statement carry its NOTIFY: no NOTIFY is sent alone for it", async () => {
    let sentAlone = 0;
    const counted = await startIngest({}, async () => {
      sentAlone++;
      await notifyOutbox(database.db);
    });
    try {
      await notices.takeWithin(0);
      for (let i = 0; i < 3; i++) {
        const answer = await fetch(`${counted.url}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(signup(100 + i)),
        });
        expect(answer.status).toBe(202);
        // Each commit wakes the relays (requests further apart than the interval carry one each).
        expect(await notices.takeWithin(200)).toEqual([OUTBOX_CHANNEL]);
      }
      expect(sentAlone).toBe(0);
    } finally {
      await new Promise((resolve) => counted.server.close(resolve));
    }
  });

  it('wakes the relays after a burst of concurrent requests', async () => {
    await notices.takeWithin(0);
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => post(JSON.stringify(signup(i)))));
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(202));
    const received = await notices.takeWithin(300);
    // At least one NOTIFY follows the last commit (the notifier coalesces the others).
    expect(received.length).toBeGreaterThanOrEqual(1);
    expect(await rowCounts()).toEqual({ events: 30, outbox: 30 });
  });
});

describe('unknown event types', () => {
  it('stores events of a type without a schema unvalidated for the sources configured so, and only those', async () => {
    const open = await startIngest({ acceptUnknownTypesFrom: ['legacy-*'] });
    try {
      const send = (source: string) =>
        fetch(`${open.url}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'legacy.thing', source, data: { anything: true } }),
        });
      const accepted = await send('legacy-crm');
      expect(accepted.status).toBe(202);
      const { id } = (await accepted.json()) as { id: string };
      expect(await database.db('events').where({ id }).first()).toMatchObject({ schema_version: null });
      expect((await send('shop')).status).toBe(422);
    } finally {
      await new Promise((resolve) => open.server.close(resolve));
    }
  });
});

describe('routing rules', () => {
  it('writes one outbox row per destination of the matching rules (fan-out)', async () => {
    const routed = await startIngest({
      routing: {
        ...settings.routing,
        rules: [
          {
            match: { type: 'order.*' },
            destinations: [
              { broker: 'kafka', topic: 'orders', partition_key: '/data/customer_id' },
              { broker: 'rabbitmq', exchange: 'orders' },
            ],
          },
        ],
      },
    });
    try {
      const response = await fetch(`${routed.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'order.created',
          data: { order_id: 'o1', customer_id: 'c-9', total: 1, currency: 'EUR', items: [{ sku: 's', quantity: 1 }] },
        }),
      });
      expect(response.status).toBe(202);
      const { id } = (await response.json()) as { id: string };
      const rows = await database.db('outbox').where({ event_id: id }).orderBy('id');
      expect(
        rows.map((r: Record<string, unknown>) => [r.broker, r.destination, r.routing_key, r.partition_key]),
      ).toEqual([
        ['kafka', 'orders', 'order.created', 'c-9'],
        ['rabbitmq', 'orders', 'order.created', null],
      ]);
    } finally {
      await new Promise((resolve) => routed.server.close(resolve));
    }
  });
});

describe('health endpoints', () => {
  it('reports liveness, readiness with the database check, and metrics', async () => {
    expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
    const ready = await fetch(`${baseUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { database: { ok: true } } });
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toContain('orchestron_http_requests_total');
    expect(metrics).toContain('orchestron_events_received_total');
  });
});
