import { generateApiKey, insertApiKey } from '@orchestron/db';
import {
  amqpUrl,
  createTestDatabase,
  eventually,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { AdminClient } from '../../apps/admin/test/openapi-check';
import { consumeRabbitMq, signup, uniqueName, type Received } from './harness';

// The admin API over a running pipeline (ingest, relay, admin as processes, real Postgres and
// RabbitMQ): a viewer finds an event and sees its dead-lettered delivery, an operator replays
// it and the consumer gets it once with its original id, an admin rotates the sender's key and
// the old secret stops working at ingest after the grace period. Every admin answer is checked
// against the OpenAPI document.

let database: TestDatabase;
const running: AppProcess[] = [];
let received: Received | undefined;
const keys: Record<string, string> = {};

async function createKey(name: string, roles: string[], sources = ['*']): Promise<void> {
  const material = generateApiKey();
  await insertApiKey(database.db, {
    name,
    keyHash: material.hash,
    keyPrefix: material.prefix,
    roles,
    allowedSources: sources,
    allowedTypes: ['*'],
  });
  keys[name] = material.key;
}

beforeAll(async () => {
  database = await createTestDatabase('e2e_admin');
  await createKey('crm', ['ingest'], ['crm']);
  await createKey('viewer', ['viewer']);
  await createKey('shop-viewer', ['viewer'], ['shop-*']);
  await createKey('operator', ['operator']);
  await createKey('root', ['admin']);
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()));
  await received?.close();
  await database.drop();
});

const send = (ingest: AppProcess, key: string, n: number) =>
  fetch(`${ingest.url}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(signup(n)),
  });

describe('the admin API over a running pipeline on RabbitMQ', () => {
  it('finds a dead-lettered event, replays it once to a consumer, and rotates a sender key', async () => {
    const exchange = uniqueName('orchestron_e2e_admin');
    const common = { DATABASE_URL: database.url, ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange };
    const ingest = await startApp('ingest', { ...common, ORCHESTRON_API_RATE_LIMIT: '0' });
    running.push(ingest);
    const relay = await startApp('relay', {
      ...common,
      AMQP_URL: amqpUrl(),
      ORCHESTRON_BROKER_TYPE: 'rabbitmq',
      ORCHESTRON_ROUTING_MAX_RETRIES: '0',
    });
    running.push(relay);
    const adminProcess = await startApp('admin', { ...common, ORCHESTRON_ADMIN_RATE_LIMIT: '0' });
    running.push(adminProcess);
    const admin = new AdminClient(adminProcess.url);

    // Nothing is bound to the exchange yet: the relay dead-letters the event as unroutable.
    const accepted = await send(ingest, keys.crm!, 1);
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    await eventually(async () => (await database.db('dead_letter_queue').where({ event_id: id })).length === 1, {
      timeoutMs: 20_000,
      message: () => `event was not dead-lettered:\n${relay.output()}`,
    });

    // A viewer finds it by type and time and sees its delivery.
    const found = await admin.call('GET', '/v1/events?type=user.*&since=10m', { key: keys.viewer });
    expect(found.status).toBe(200);
    expect((found.body as { items: Array<{ id: string; status: string }> }).items).toEqual([
      expect.objectContaining({ id, source: 'crm', status: 'dead' }),
    ]);
    const detail = await admin.call('GET', `/v1/events/${id}`, { key: keys.viewer, operationPath: '/v1/events/{id}' });
    const deliveries = (detail.body as { deliveries: Array<Record<string, unknown>> }).deliveries;
    expect(deliveries).toEqual([
      expect.objectContaining({
        broker: 'rabbitmq',
        destination: exchange,
        outbox: [expect.objectContaining({ status: 'dead', dead_letter: expect.objectContaining({ status: 'dead' }) })],
      }),
    ]);
    // Outside a key's scope the event does not exist.
    const hidden = await admin.call('GET', `/v1/events/${id}`, {
      key: keys['shop-viewer'],
      operationPath: '/v1/events/{id}',
    });
    expect(hidden.status).toBe(404);

    // A viewer may not replay; the attempt is refused and audited.
    const selection = { filter: { type: 'user.*' } };
    const refused = await admin.call('POST', '/v1/dead-letters/replay', { key: keys.viewer, body: selection });
    expect(refused.status).toBe(403);

    // An operator replays it, after a dry run, once a queue is bound.
    received = await consumeRabbitMq(exchange);
    const dryRun = await admin.call('POST', '/v1/dead-letters/replay', {
      key: keys.operator,
      body: { ...selection, dry_run: true },
    });
    expect(dryRun.body).toMatchObject({ dry_run: true, count: 1 });
    const replay = await admin.call('POST', '/v1/dead-letters/replay', { key: keys.operator, body: selection });
    expect(replay.body).toMatchObject({ dry_run: false, count: 1 });
    await received.waitForDistinct(1, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(received.ids()).toEqual([id]);
    const again = await admin.call('POST', '/v1/dead-letters/replay', { key: keys.operator, body: selection });
    expect(again.body).toMatchObject({ count: 0 });

    const audit = await admin.call('GET', '/v1/audit?action=dead_letters.replay', { key: keys.root });
    const entries = (audit.body as { items: Array<Record<string, unknown>> }).items;
    expect(entries).toEqual([
      expect.objectContaining({ actor: 'operator', outcome: 'ok', result: expect.objectContaining({ replayed: 0 }) }),
      expect.objectContaining({ actor: 'operator', outcome: 'ok', result: expect.objectContaining({ replayed: 1 }) }),
      expect.objectContaining({ actor: 'viewer', outcome: 'refused', target: { body: selection } }),
    ]);

    // An admin rotates the sender's key: both secrets work during the grace period, then only the new one.
    const rotated = await admin.call('POST', '/v1/keys/crm/rotate', {
      key: keys.root,
      body: { grace_seconds: 3 },
      operationPath: '/v1/keys/{name}/rotate',
    });
    expect(rotated.status).toBe(200);
    const newSecret = (rotated.body as { key: string; previous_secret_expires_at: string }).key;
    const graceEnds = Date.parse((rotated.body as { previous_secret_expires_at: string }).previous_secret_expires_at);
    expect(graceEnds - Date.now()).toBeGreaterThan(0);
    expect((await send(ingest, newSecret, 2)).status).toBe(202);
    if (Date.now() < graceEnds - 500) expect((await send(ingest, keys.crm!, 3)).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, graceEnds - Date.now()) + 200));
    expect((await send(ingest, keys.crm!, 4)).status).toBe(401);
    expect((await send(ingest, newSecret, 5)).status).toBe(202);
  }, 120_000);
});
