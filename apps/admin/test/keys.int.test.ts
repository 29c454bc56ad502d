import { hashApiKey } from '@orchestron/db';
import { AdminHarness } from './harness';

// Keys over the API: the secret is shown once and only its hash stored, revocation works at
// once on this replica, rotation keeps the old secret for a bounded grace period, and each
// change (or refused attempt) is in the audit log.

let harness: AdminHarness;

beforeAll(async () => {
  harness = await AdminHarness.start('admin_keys', { keyRotationGraceMs: 60_000 });
  await harness.createKey('root', { roles: ['admin'] });
  await harness.createKey('shop-admin', { roles: ['admin'], sources: ['shop-*'] });
});

afterAll(async () => {
  await harness?.stop();
});

const auditOf = async (action: string) =>
  (await harness.call('GET', `/v1/audit?action=${action}`, { as: 'root' })).body as {
    items: Array<{ actor: string; outcome: string; target: Record<string, unknown>; result: Record<string, unknown> }>;
  };

describe('POST /v1/keys', () => {
  it('answers the secret once, stores only its hash, and audits the creation', async () => {
    const response = await harness.call('POST', '/v1/keys', {
      as: 'root',
      body: { name: 'reader', roles: ['viewer'], sources: ['shop-*'] },
    });
    expect(response.status).toBe(201);
    const created = response.body as { key: string; prefix: string; roles: string[]; sources: string[] };
    expect(created).toMatchObject({ roles: ['viewer'], sources: ['shop-*'], types: ['*'] });
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const row = await harness.db('api_keys').where({ name: 'reader' }).first();
    expect(row.key_hash).toBe(hashApiKey(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const listed = await harness.call('GET', '/v1/keys', { as: 'root' });
    expect(JSON.stringify(listed.body)).not.toContain(created.key);
    expect(JSON.stringify(listed.body)).not.toContain(row.key_hash);
    // Works at once with the role it was given.
    expect((await harness.call('GET', '/v1/events', { as: `secret:${created.key}` })).status).toBe(200);
    expect((await harness.call('GET', '/v1/keys', { as: `secret:${created.key}` })).status).toBe(403);
    expect((await auditOf('keys.create')).items[0]).toMatchObject({
      actor: 'root',
      outcome: 'ok',
      target: { name: 'reader', roles: ['viewer'] },
    });
  });

  it('refuses a taken name with 409, changes nothing and audits the refusal', async () => {
    const before = await harness.db('api_keys').count({ n: '*' });
    const response = await harness.call('POST', '/v1/keys', { as: 'root', body: { name: 'root', roles: ['admin'] } });
    expect(response.status).toBe(409);
    expect(await harness.db('api_keys').count({ n: '*' })).toEqual(before);
    expect((await auditOf('keys.create')).items[0]).toMatchObject({ outcome: 'refused', target: { name: 'root' } });
  });

  it('refuses an unknown role or a malformed body with 400 naming each problem', async () => {
    const response = await harness.call('POST', '/v1/keys', {
      as: 'root',
      body: { name: 'bad name!', roles: ['superuser'], colour: 'red' },
    });
    expect(response.status).toBe(400);
    const pointers = (response.body as { errors: Array<{ pointer: string }> }).errors.map((e) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/', '/name', '/roles/0']));
    const malformed = await harness.call('POST', '/v1/keys', {
      as: 'root',
      raw: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect((malformed.body as { title: string }).title).toBe('Malformed JSON');
    const form = await harness.call('POST', '/v1/keys', {
      as: 'root',
      raw: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  it('lets only a key without source or type limits manage keys', async () => {
    const response = await harness.call('POST', '/v1/keys', {
      as: 'shop-admin',
      body: { name: 'escalated', roles: ['admin'] },
    });
    expect(response.status).toBe(403);
    expect(await harness.db('api_keys').where({ name: 'escalated' }).first()).toBeUndefined();
  });
});

describe('POST /v1/keys/{name}/revoke', () => {
  it('stops the key at once and audits it; an unknown name is 404', async () => {
    const secret = await harness.createKey('doomed', { roles: ['viewer'] });
    expect((await harness.call('GET', '/v1/events', { as: `secret:${secret}` })).status).toBe(200);
    const response = await harness.call('POST', '/v1/keys/doomed/revoke', {
      as: 'root',
      operationPath: '/v1/keys/{name}/revoke',
    });
    expect(response.status).toBe(200);
    expect((response.body as { revoked_at: string | null }).revoked_at).not.toBeNull();
    expect((await harness.call('GET', '/v1/events', { as: `secret:${secret}` })).status).toBe(401);
    const again = await harness.call('POST', '/v1/keys/doomed/revoke', {
      as: 'root',
      operationPath: '/v1/keys/{name}/revoke',
    });
    expect(again.status).toBe(404);
    const entries = (await auditOf('keys.revoke')).items;
    expect(entries.map((e) => e.outcome)).toEqual(['refused', 'ok']);
  });
});

describe('POST /v1/keys/{name}/rotate', () => {
  it('gives a new secret and keeps the old one for the grace period asked, never longer than configured', async () => {
    const old = await harness.createKey('rotating', { roles: ['viewer'] });
    const response = await harness.call('POST', '/v1/keys/rotating/rotate', {
      as: 'root',
      body: { grace_seconds: 86_400 },
      operationPath: '/v1/keys/{name}/rotate',
    });
    expect(response.status).toBe(200);
    const rotated = response.body as { key: string; previous_secret_expires_at: string };
    const grace = Date.parse(rotated.previous_secret_expires_at) - Date.now();
    expect(grace).toBeGreaterThan(50_000);
    expect(grace).toBeLessThanOrEqual(60_000);
    expect((await harness.call('GET', '/v1/events', { as: `secret:${rotated.key}` })).status).toBe(200);
    expect((await harness.call('GET', '/v1/events', { as: `secret:${old}` })).status).toBe(200);
  });

  it('ends the old secret at once with a grace of 0', async () => {
    const old = await harness.createKey('rotating-now', { roles: ['viewer'] });
    const response = await harness.call('POST', '/v1/keys/rotating-now/rotate', {
      as: 'root',
      body: { grace_seconds: 0 },
      operationPath: '/v1/keys/{name}/rotate',
    });
    expect((response.body as { previous_secret_expires_at: unknown }).previous_secret_expires_at).toBeNull();
    expect((await harness.call('GET', '/v1/events', { as: `secret:${old}` })).status).toBe(401);
    expect((await auditOf('keys.rotate')).items[0]).toMatchObject({
      actor: 'root',
      outcome: 'ok',
      target: { name: 'rotating-now', grace_ms: 0 },
    });
  });
});

describe('rate limits', () => {
  it('limits each key on its own and answers 429 with Retry-After', async () => {
    const limited = await AdminHarness.start('admin_rate', { rateLimit: 2, rateLimitBurst: 0 });
    try {
      await limited.createKey('busy', { roles: ['viewer'] });
      await limited.createKey('calm', { roles: ['viewer'] });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await limited.call('GET', '/v1/backlog', { as: 'busy' })).status);
      expect(statuses).toContain(429);
      const refused = await limited.call('GET', '/v1/backlog', { as: 'busy' });
      if (refused.status === 429) expect(refused.headers.get('retry-after')).toBe('1');
      expect((await limited.call('GET', '/v1/backlog', { as: 'calm' })).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});
