import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sign as signGithub } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { loadConfig } from '@orchestron/config';
import { notifyOutbox } from '@orchestron/db';
import { createLogger, createRegistry, ingestMetrics } from '@orchestron/observability';
import { SchemaRegistry } from '@orchestron/schemas';
import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { OutboxNotifier } from '../src/outbox-notifier';
import { createIngestApp, type IngestSettings } from '../src/app';
import { ApiKeyCache } from '@orchestron/http';

// Every request here is signed by the sender's own library: @octokit/webhooks-methods (GitHub),
// stripe (generateTestHeaderString) and standardwebhooks; the generic scheme by node:crypto.

const SECRETS = {
  GITHUB_SECRET: 'gh-current-secret',
  GITHUB_SECRET_OLD: 'gh-previous-secret',
  STRIPE_SECRET: 'whsec_stripe_endpoint_secret',
  SVIX_SECRET: `whsec_${Buffer.from('current-standard-webhooks-key!!').toString('base64')}`,
  SVIX_SECRET_OLD: `whsec_${Buffer.from('previous-standard-webhooks-key!').toString('base64')}`,
  ACME_SECRET: 'acme-shared-key',
};

const CONFIG = `sources:
  github:
    scheme: github
    secrets: [env:GITHUB_SECRET, env:GITHUB_SECRET_OLD]
    static_fields: {team: platform, region: eu-west-1}
  github-lenient:
    scheme: github
    secrets: [env:GITHUB_SECRET]
    unknown_types: accept
  stripe:
    scheme: stripe
    secrets: [env:STRIPE_SECRET]
    static_fields: {team: payments}
  svix:
    scheme: standard-webhooks
    secrets: [env:SVIX_SECRET, env:SVIX_SECRET_OLD]
  acme:
    scheme: hmac-sha256
    secrets: [env:ACME_SECRET]
    signature: {header: X-Acme-Signature, encoding: base64, prefix: "sha256="}
    type_from: {header: X-Acme-Event}
    id_from: {pointer: /delivery/id}
  open:
    scheme: none
`;

const SCHEMAS: Record<string, object> = {
  push: {
    type: 'object',
    required: ['ref', 'repository'],
    properties: { ref: { type: 'string' }, repository: { type: 'object', required: ['full_name'] } },
  },
  'payment_intent.succeeded': {
    type: 'object',
    required: ['id', 'type', 'data'],
    properties: { data: { type: 'object', required: ['object'] } },
  },
  'invoice.paid': {
    type: 'object',
    required: ['type', 'data'],
    properties: { data: { type: 'object', required: ['invoice_id'] } },
  },
  'build.finished': { type: 'object', required: ['status'] },
};

function writeSchemas(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'orchestron-webhook-schemas-'));
  for (const [type, schema] of Object.entries(SCHEMAS)) {
    mkdirSync(path.join(dir, type));
    writeFileSync(path.join(dir, type, '1.json'), JSON.stringify(schema));
  }
  return dir;
}

const settings: IngestSettings = {
  maxPayloadBytes: 16 * 1024,
  maxBatchSize: 100,
  rateLimit: 0,
  rateLimitBurst: 0,
  trustProxy: false,
  requireApiKey: true,
  maxClockSkewMs: 300_000,
  routing: {
    broker: 'rabbitmq',
    default_topic: 'events',
    default_exchange: 'events',
    default_routing_key: '#',
    rules: [],
  },
};

let database: TestDatabase;
let server: http.Server;
let baseUrl: string;
let apiKeys: ApiKeyCache;

beforeAll(async () => {
  database = await createTestDatabase('webhooks');
  const configFile = path.join(mkdtempSync(path.join(tmpdir(), 'orchestron-webhooks-')), 'config.yaml');
  writeFileSync(configFile, CONFIG);
  const config = loadConfig({ file: configFile, env: { ...SECRETS } });
  const logger = createLogger({ service: 'ingest', silent: !process.env.TEST_LOGS });
  const registry = createRegistry('ingest');
  apiKeys = new ApiKeyCache(database.db, logger, { refreshMs: 60_000, flushMs: 60_000 });
  await apiKeys.start();
  const app = createIngestApp({
    db: database.db,
    notifier: new OutboxNotifier(() => notifyOutbox(database.db), logger),
    apiKeys,
    schemas: SchemaRegistry.loadFromDirectory(writeSchemas()),
    logger,
    registry,
    metrics: ingestMetrics(registry),
    settings: { ...settings, webhookSources: config.sources },
  });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await apiKeys.stop();
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events cascade');
});

async function rowCounts(): Promise<{ events: number; outbox: number }> {
  const result = await database.db.raw<{ rows: Array<{ events: string; outbox: string }> }>(
    'select (select count(*) from events) as events, (select count(*) from outbox) as outbox',
  );
  const row = result.rows[0];
  return { events: Number(row?.events), outbox: Number(row?.outbox) };
}

function deliver(source: string, body: string | Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${baseUrl}/webhooks/${source}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

async function expectProblem(response: Response, status: number, slug: string): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = (await response.json()) as Record<string, unknown>;
  expect(problem).toMatchObject({ status, type: `https://orchestron.dev/problems/${slug}` });
  expect(problem.request_id).toBe(response.headers.get('x-request-id'));
  return problem;
}

/** The body with one byte changed (still valid JSON, so only the signature can catch it). */
function tampered(body: string, from: string, to: string): string {
  expect(Buffer.byteLength(from)).toBe(Buffer.byteLength(to));
  const changed = body.replace(from, to);
  expect(Buffer.from(changed).compare(Buffer.from(body))).not.toBe(0);
  return changed;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('POST /webhooks/github (X-Hub-Signature-256, signed by @octokit/webhooks-methods)', () => {
  const push = JSON.stringify({
    ref: 'refs/heads/main',
    after: '1f2e3d',
    repository: { id: 1296269, full_name: 'octocat/Hello-World' },
    pusher: { name: 'octocat' },
  });

  async function githubHeaders(body: string, secret = SECRETS.GITHUB_SECRET, event = 'push', delivery = randomUUID()) {
    return {
      'X-GitHub-Event': event,
      'X-GitHub-Delivery': delivery,
      'X-Hub-Signature-256': await signGithub(secret, body),
      'User-Agent': 'GitHub-Hookshot/044aadd',
    };
  }

  it('accepts a signed delivery: 202, one event with source, type, delivery id and static fields, one outbox row', async () => {
    const headers = await githubHeaders(push);
    const response = await deliver('github', push, headers);
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const event = await database.db('events').where({ id }).first();
    expect(event).toMatchObject({
      source: 'github',
      type: 'push',
      schema_version: 1,
      idempotency_key: headers['X-GitHub-Delivery'],
      payload: JSON.parse(push),
    });
    expect(event.headers).toMatchObject({
      team: 'platform',
      region: 'eu-west-1',
      'content-type': 'application/json',
      'request-id': response.headers.get('x-request-id'),
    });
    expect(await database.db('outbox').where({ event_id: id })).toEqual([
      expect.objectContaining({ broker: 'rabbitmq', destination: 'events', routing_key: 'push', status: 'pending' }),
    ]);
    expect(await rowCounts()).toEqual({ events: 1, outbox: 1 });
  });

  it('answers a re-delivery of the same delivery id with 200 and the original id, storing nothing new', async () => {
    const headers = await githubHeaders(push);
    const first = (await (await deliver('github', push, headers)).json()) as { id: string };
    const again = await deliver('github', push, headers);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: first.id });
    expect(await rowCounts()).toEqual({ events: 1, outbox: 1 });
  });

  it('accepts a delivery signed with the second (rotated) secret', async () => {
    const response = await deliver('github', push, await githubHeaders(push, SECRETS.GITHUB_SECRET_OLD));
    expect(response.status).toBe(202);
    expect(await rowCounts()).toEqual({ events: 1, outbox: 1 });
  });

  it('accepts a JSON body with a charset=utf-8 parameter', async () => {
    const headers = { ...(await githubHeaders(push)), 'content-type': 'application/json; charset=utf-8' };
    expect((await deliver('github', push, headers)).status).toBe(202);
  });

  it('needs no API key although /events requires one', async () => {
    const events = await fetch(`${baseUrl}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'push', data: {} }),
    });
    expect(events.status).toBe(401);
    expect((await deliver('github', push, await githubHeaders(push))).status).toBe(202);
  });

  describe('answers 401 and stores nothing', () => {
    it.each([
      ['a wrong secret', async () => deliver('github', push, await githubHeaders(push, 'not-the-secret'))],
      [
        'a tampered body (one byte changed)',
        async () => deliver('github', tampered(push, 'main', 'mair'), await githubHeaders(push)),
      ],
      [
        'a missing signature header',
        async () => {
          const { 'X-Hub-Signature-256': _dropped, ...headers } = await githubHeaders(push);
          return deliver('github', push, headers);
        },
      ],
      [
        'a signature of another source',
        async () => deliver('github', push, { ...(await githubHeaders(push)), 'X-Hub-Signature-256': 'sha256=00' }),
      ],
    ])('for %s', async (_name, send) => {
      await expectProblem(await send(), 401, 'invalid-signature');
      expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
    });
  });

  it('rejects an event type without a schema with 422 when the source rejects unknown types', async () => {
    const ping = JSON.stringify({ zen: 'Design for failure.', hook_id: 1 });
    const problem = await expectProblem(
      await deliver('github', ping, await githubHeaders(ping, SECRETS.GITHUB_SECRET, 'ping')),
      422,
      'unknown-event-type',
    );
    expect(problem.errors).toEqual([expect.objectContaining({ message: 'no schema for event type "ping"' })]);
    expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
  });

  it('stores an event type without a schema unvalidated (schema_version null) when the source accepts unknown types', async () => {
    const ping = JSON.stringify({ zen: 'Design for failure.', hook_id: 1 });
    const response = await deliver('github-lenient', ping, await githubHeaders(ping, SECRETS.GITHUB_SECRET, 'ping'));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    expect(await database.db('events').where({ id }).first()).toMatchObject({
      source: 'github-lenient',
      type: 'ping',
      schema_version: null,
    });
    expect(await rowCounts()).toEqual({ events: 1, outbox: 1 });
  });

  it('still validates event types that have a schema, whatever unknown_types says', async () => {
    const bad = JSON.stringify({ ref: 'refs/heads/main' });
    const problem = await expectProblem(
      await deliver('github-lenient', bad, await githubHeaders(bad)),
      422,
      'schema-validation',
    );
    expect(problem.errors).toEqual([expect.objectContaining({ pointer: '/repository' })]);
    expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
  });

  it('answers 400 when the event type header is missing', async () => {
    const { 'X-GitHub-Event': _dropped, ...headers } = await githubHeaders(push);
    await expectProblem(await deliver('github', push, headers), 400, 'invalid-webhook');
    expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
  });

  it('counts rejected deliveries by source', async () => {
    await deliver('github', push, await githubHeaders(push, 'not-the-secret'));
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /orchestron_events_received_total\{source="github",type="unknown",outcome="rejected"[^}]*\} [1-9]/,
    );
  });
});

describe('POST /webhooks/stripe (Stripe-Signature, signed by stripe.webhooks.generateTestHeaderString)', () => {
  const event = (id = 'evt_1QZ8s2LkdIwHu7ix') =>
    JSON.stringify({
      id,
      object: 'event',
      api_version: '2024-06-20',
      created: nowSeconds(),
      type: 'payment_intent.succeeded',
      data: { object: { id: 'pi_3MtwBwLkdIwHu7ix28a3tqPa', object: 'payment_intent', amount: 2000, currency: 'usd' } },
      livemode: false,
    });

  const stripeHeaders = (payload: string, secret = SECRETS.STRIPE_SECRET, timestamp = nowSeconds()) => ({
    'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }),
    'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
  });

  it('accepts a signed event: type and idempotency key from the body, static fields stored', async () => {
    const body = event();
    const response = await deliver('stripe', body, stripeHeaders(body));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const stored = await database.db('events').where({ id }).first();
    expect(stored).toMatchObject({
      source: 'stripe',
      type: 'payment_intent.succeeded',
      idempotency_key: 'evt_1QZ8s2LkdIwHu7ix',
      schema_version: 1,
    });
    expect(stored.headers).toMatchObject({ team: 'payments' });
    expect(await rowCounts()).toEqual({ events: 1, outbox: 1 });
  });

  it('answers a retry (same event, new signature and timestamp) with 200 and the original id', async () => {
    const body = event();
    const first = (await (
      await deliver('stripe', body, stripeHeaders(body, SECRETS.STRIPE_SECRET, nowSeconds() - 60))
    ).json()) as {
      id: string;
    };
    const retry = await deliver('stripe', body, stripeHeaders(body));
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ id: first.id });
    expect(await rowCounts()).toEqual({ events: 1, outbox: 1 });
  });

  describe('answers 401 and stores nothing', () => {
    const body = event();
    it.each([
      ['a wrong secret', () => stripeHeaders(body, 'whsec_someone_else')],
      ['an expired timestamp (10 minutes old)', () => stripeHeaders(body, SECRETS.STRIPE_SECRET, nowSeconds() - 600)],
      ['a timestamp 10 minutes in the future', () => stripeHeaders(body, SECRETS.STRIPE_SECRET, nowSeconds() + 600)],
      ['no Stripe-Signature header', () => ({})],
    ])('for %s', async (_name, headers) => {
      await expectProblem(await deliver('stripe', body, headers()), 401, 'invalid-signature');
      expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
    });

    it('for a tampered body (one byte changed)', async () => {
      const signed = event();
      const changed = tampered(signed, '"amount":2000', '"amount":2001');
      await expectProblem(await deliver('stripe', changed, stripeHeaders(signed)), 401, 'invalid-signature');
      expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
    });
  });
});

describe('POST /webhooks/svix (Standard Webhooks, signed by the standardwebhooks library)', () => {
  const body = JSON.stringify({
    type: 'invoice.paid',
    timestamp: '2026-11-26T10:00:00Z',
    data: { invoice_id: 'in_42', amount: 1200 },
  });

  function svixHeaders(
    payload: string | Buffer,
    secret = SECRETS.SVIX_SECRET,
    at = new Date(),
    id = `msg_${randomUUID()}`,
  ) {
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, Buffer.isBuffer(payload) ? payload : Buffer.from(payload)),
    };
  }

  it('accepts a signed message with the webhook-id as idempotency key and the type from the body', async () => {
    const headers = svixHeaders(body);
    const response = await deliver('svix', body, headers);
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    expect(await database.db('events').where({ id }).first()).toMatchObject({
      source: 'svix',
      type: 'invoice.paid',
      idempotency_key: headers['webhook-id'],
      schema_version: 1,
    });
  });

  it('accepts the second (rotated) secret and stores a re-delivery once', async () => {
    const headers = svixHeaders(body, SECRETS.SVIX_SECRET_OLD);
    const first = await deliver('svix', body, headers);
    expect(first.status).toBe(202);
    const again = await deliver(
      'svix',
      body,
      svixHeaders(body, SECRETS.SVIX_SECRET, new Date(), headers['webhook-id']),
    );
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(await first.json());
    expect(await rowCounts()).toEqual({ events: 1, outbox: 1 });
  });

  describe('answers 401 and stores nothing', () => {
    const otherSecret = `whsec_${Buffer.from('someone-elses-key-of-32-bytes!!').toString('base64')}`;
    it.each([
      ['a wrong secret', () => deliver('svix', body, svixHeaders(body, otherSecret))],
      [
        'a tampered body (one byte changed)',
        () => deliver('svix', tampered(body, 'in_42', 'in_43'), svixHeaders(body)),
      ],
      [
        'an expired timestamp (10 minutes old)',
        () => deliver('svix', body, svixHeaders(body, SECRETS.SVIX_SECRET, new Date(Date.now() - 600_000))),
      ],
      [
        'a timestamp 10 minutes in the future',
        () => deliver('svix', body, svixHeaders(body, SECRETS.SVIX_SECRET, new Date(Date.now() + 600_000))),
      ],
      [
        'a missing webhook-signature header',
        () => {
          const { 'webhook-signature': _dropped, ...headers } = svixHeaders(body);
          return deliver('svix', body, headers);
        },
      ],
    ])('for %s', async (_name, send) => {
      await expectProblem(await send(), 401, 'invalid-signature');
      expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
    });
  });
});

describe('POST /webhooks/acme (generic hmac-sha256)', () => {
  const body = JSON.stringify({ status: 'passed', delivery: { id: 'd-7' } });
  const sign = (secret: string, payload: string) =>
    `sha256=${createHmac('sha256', secret).update(payload).digest('base64')}`;

  it('accepts a signed delivery with the type from a header and the id from a JSON pointer', async () => {
    const response = await deliver('acme', body, {
      'X-Acme-Event': 'build.finished',
      'X-Acme-Signature': sign(SECRETS.ACME_SECRET, body),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    expect(await database.db('events').where({ id }).first()).toMatchObject({
      source: 'acme',
      type: 'build.finished',
      idempotency_key: 'd-7',
    });
  });

  it('answers 401 for a wrong secret', async () => {
    const response = await deliver('acme', body, {
      'X-Acme-Event': 'build.finished',
      'X-Acme-Signature': sign('wrong', body),
    });
    await expectProblem(response, 401, 'invalid-signature');
    expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
  });
});

describe('POST /webhooks/open (scheme none)', () => {
  it('stores every delivery, without idempotency key', async () => {
    const body = JSON.stringify({ type: 'build.finished', status: 'passed' });
    expect((await deliver('open', body, {})).status).toBe(202);
    expect((await deliver('open', body, {})).status).toBe(202);
    const rows = await database.db('events').select('source', 'type', 'idempotency_key');
    expect(rows).toEqual([
      { source: 'open', type: 'build.finished', idempotency_key: null },
      { source: 'open', type: 'build.finished', idempotency_key: null },
    ]);
  });
});

describe('POST /webhooks/:source stores the body as sent', () => {
  it("stores the payload from the sender's text: numbers keep every digit", async () => {
    // Built by hand: JSON.stringify could not write this number.
    const body = '{"type":"build.finished","status":"passed","run":12345678901234567890}';
    expect((await deliver('open', body, {})).status).toBe(202);
    const stored = await database.db.raw<{ rows: Array<{ run: string; status: string }> }>(
      "select payload ->> 'run' as run, payload ->> 'status' as status from events",
    );
    expect(stored.rows).toEqual([{ run: '12345678901234567890', status: 'passed' }]);
  });
});

describe('POST /webhooks/:source rejects bad requests like /events', () => {
  const body = JSON.stringify({ type: 'build.finished', status: 'passed' });

  it('answers 404 for a source that is not configured', async () => {
    await expectProblem(await deliver('gitlab', body, {}), 404, 'unknown-source');
    await expectProblem(await deliver('constructor', body, {}), 404, 'unknown-source');
    expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
  });

  it('answers 415 for a body that is not JSON', async () => {
    await expectProblem(
      await deliver('open', body, { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported-media-type',
    );
  });

  it('answers 413 for a body over max_payload_size', async () => {
    await expectProblem(
      await deliver('open', JSON.stringify({ type: 'build.finished', pad: 'x'.repeat(20_000) }), {}),
      413,
      'payload-too-large',
    );
  });

  it('answers 400 for a correctly signed body that is not JSON', async () => {
    const broken = '{"ref": ';
    const response = await deliver('github', broken, {
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': await signGithub(SECRETS.GITHUB_SECRET, broken),
    });
    await expectProblem(response, 400, 'malformed-json');
    expect(await rowCounts()).toEqual({ events: 0, outbox: 0 });
  });
});
