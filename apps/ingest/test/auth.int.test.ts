import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { generateApiKey, insertApiKey, notifyOutbox, revokeApiKey } from '@orchestron/db';
import { createLogger, createRegistry, ingestMetrics } from '@orchestron/observability';
import { SchemaRegistry } from '@orchestron/schemas';
import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { OutboxNotifier } from '../src/outbox-notifier';
import { createIngestApp } from '../src/app';
import { ApiKeyCache } from '@orchestron/http';

let database: TestDatabase;
let server: http.Server;
let baseUrl: string;
let cache: ApiKeyCache;
const keys: Record<string, string> = {};

const event = (type: string, source?: string) => ({
  type,
  ...(source ? { source } : {}),
  data:
    type === 'order.created'
      ? { order_id: 'o1', customer_id: 'c1', total: 5, currency: 'EUR', items: [{ sku: 's', quantity: 1 }] }
      : { user_id: 'u1', email: 'u1@example.com', signed_up_at: '2026-11-26T10:00:00Z' },
});

async function createKey(name: string, scopes: { roles?: string[]; sources?: string[]; types?: string[] } = {}) {
  const material = generateApiKey();
  await insertApiKey(database.db, {
    name,
    keyHash: material.hash,
    keyPrefix: material.prefix,
    roles: scopes.roles ?? ['ingest'],
    allowedSources: scopes.sources ?? ['*'],
    allowedTypes: scopes.types ?? ['*'],
  });
  keys[name] = material.key;
}

function post(body: unknown, headers: Record<string, string>, url = baseUrl) {
  return fetch(`${url}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

const bearer = (name: string) => ({ authorization: `Bearer ${keys[name]}` });

async function eventCount(): Promise<number> {
  const [row] = (await database.db('events').count({ n: '*' })) as Array<{ n: number }>;
  return Number(row?.n);
}

beforeAll(async () => {
  database = await createTestDatabase('auth');
  await createKey('shop', { sources: ['shop', 'shop-*'], types: ['order.*'] });
  await createKey('everything');
  await createKey('reader', { roles: ['read'] });
  await createKey('revoked');
  await revokeApiKey(database.db, 'revoked');
  cache = new ApiKeyCache(database.db, createLogger({ service: 'ingest', silent: true }), {
    refreshMs: 60_000,
    flushMs: 60_000,
  });
  await cache.start();
  ({ server, url: baseUrl } = await startIngest(0));
});

/** An ingest app on its own port; `rateLimit` 0 turns limiting off. */
async function startIngest(rateLimit: number): Promise<{ server: http.Server; url: string }> {
  const registry = createRegistry('ingest');
  const app = createIngestApp({
    db: database.db,
    notifier: new OutboxNotifier(() => notifyOutbox(database.db), createLogger({ service: 'ingest', silent: true })),
    apiKeys: cache,
    schemas: SchemaRegistry.loadFromDirectory(path.join(__dirname, '../../../schemas')),
    logger: createLogger({ service: 'ingest', silent: true }),
    registry,
    metrics: ingestMetrics(registry),
    settings: {
      maxPayloadBytes: 65_536,
      maxBatchSize: 100,
      rateLimit,
      rateLimitBurst: 0,
      trustProxy: false,
      requireApiKey: true,
      maxClockSkewMs: 300_000,
      routing: {
        broker: 'rabbitmq',
        default_topic: 't',
        default_exchange: 'e',
        default_routing_key: '#',
        rules: [],
      },
    },
  });
  const s = http.createServer(app);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await cache.stop();
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events cascade');
});

describe('API keys', () => {
  it('refuses a request without a key with 401 and a WWW-Authenticate challenge', async () => {
    const response = await post(event('order.created', 'shop'), {});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await eventCount()).toBe(0);
  });

  it.each<[string, () => Record<string, string>]>([
    ['an unknown key', () => ({ authorization: 'Bearer orc_not-a-key' })],
    ['a revoked key', () => ({ 'x-api-key': keys.revoked as string })],
    ['a malformed Authorization header', () => ({ authorization: 'Basic abc' })],
  ])('refuses %s with 401', async (_name, headers) => {
    const response = await post(event('order.created', 'shop'), headers());
    expect(response.status).toBe(401);
    expect(await eventCount()).toBe(0);
  });

  it('accepts a key as Bearer token or X-API-Key, and stores its name with the event', async () => {
    const first = await post(event('order.created', 'shop'), bearer('shop'));
    expect(first.status).toBe(202);
    const second = await post(event('order.created', 'shop-eu'), { 'x-api-key': keys.shop as string });
    expect(second.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    const stored = await database.db('events').where({ id }).first();
    expect(stored.headers['api-key']).toBe('shop');
    expect(stored.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('accepts a key created after the last reload at once, without waiting for the next one', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await createKey('brand-new');
    expect((await post(event('user.signed_up'), bearer('brand-new'))).status).toBe(202);
  });

  it('uses the key name as the source of events that name none', async () => {
    const response = await post(event('user.signed_up'), bearer('everything'));
    const { id } = (await response.json()) as { id: string };
    expect((await database.db('events').where({ id }).first()).source).toBe('everything');
  });

  it('answers 403, not 401, when a valid key may not write that source or type, listing each', async () => {
    const response = await post([event('order.created', 'crm'), event('user.signed_up', 'shop')], bearer('shop'));
    expect(response.status).toBe(403);
    const problem = (await response.json()) as { errors: Array<{ pointer: string }> };
    expect(problem.errors.map((e) => e.pointer)).toEqual(['/0/source', '/1/type']);
    expect(await eventCount()).toBe(0);
  });

  it('answers 403 to a key without the ingest role', async () => {
    expect((await post(event('order.created', 'shop'), bearer('reader'))).status).toBe(403);
  });

  it("keeps the caller's traceparent", async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const response = await post(event('user.signed_up'), { ...bearer('everything'), traceparent });
    const { id } = (await response.json()) as { id: string };
    expect((await database.db('events').where({ id }).first()).headers.traceparent).toBe(traceparent);
  });

  it('rate-limits per key, not per address: one key at its limit does not slow another', async () => {
    const limited = await startIngest(2);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        statuses.push((await post(event('order.created', 'shop'), bearer('shop'), limited.url)).status);
      }
      // A fixed one-second window: limit 2, so some of six quick requests are refused.
      expect(statuses).toContain(429);
      expect(statuses.slice(0, 2)).toEqual([202, 202]);
      expect((await post(event('user.signed_up'), bearer('everything'), limited.url)).status).toBe(202);
    } finally {
      await new Promise((resolve) => limited.server.close(resolve));
    }
  });

  it('records last use in memory and writes it on flush, not per request', async () => {
    await post(event('user.signed_up'), bearer('everything'));
    const before = await database.db('api_keys').where({ name: 'everything' }).first();
    await cache.flush();
    const after = await database.db('api_keys').where({ name: 'everything' }).first();
    expect(after.last_used_at).toBeInstanceOf(Date);
    expect(before.last_used_at === null || before.last_used_at < after.last_used_at).toBe(true);
  });
});
