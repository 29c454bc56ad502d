import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configKeys, reloadableKeysOf, type ReloadingApp } from '@orchestron/config';
import {
  amqpUrl,
  createTestDatabase,
  eventually,
  REPO_ROOT,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { postEvents, reloadCount, signup } from './harness';

// Every key the configuration reference calls reloadable (packages/config RELOADABLE_KEYS,
// listed in docs/configuration.md), changed in a running process in both ways an operator
// can: by rewriting the config file (the watcher reloads) and by SIGHUP (the values come from
// `<VAR>_FILE` files, which nothing watches, so only the signal can bring them in). Each case
// first shows the old behaviour, then the new one, without a restart. A key added to the
// reloadable list without a case here fails the first test.

type Values = Record<string, unknown>;

interface Case {
  app: ReloadingApp;
  key: string;
  /** Start-only settings of the process this case needs (environment at start). */
  profile?: 'kafka';
  /** Other keys this case sets, in both phases. */
  context?: Values;
  before: unknown;
  after: unknown;
  /** True when the process behaves as `value` says it should. */
  shows(target: Target, value: 'before' | 'after'): Promise<boolean>;
}

let database: TestDatabase;
let dir: string;
let schemasBefore: string;
let schemasAfter: string;
let sequence = 0;

/** A running app whose configuration the test changes. */
class Target {
  private reloadsSeen = 0;

  private constructor(
    readonly app: AppProcess,
    private readonly mode: 'file' | 'sighup',
    private readonly where: string,
  ) {}

  /** Starts the app reading `values`, already written in `where` (see write()). */
  static async startIn(
    where: string,
    app: ReloadingApp,
    mode: 'file' | 'sighup',
    profile: Case['profile'],
    values: Values,
  ): Promise<Target> {
    const env: Record<string, string | undefined> = {
      DATABASE_URL: database.url,
      AMQP_URL: amqpUrl(),
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
      // The values under test come from the file (or the _FILE files), not from these defaults.
      ORCHESTRON_LOG_LEVEL: undefined,
      ORCHESTRON_SCHEMAS_DIRECTORY: undefined,
      ...(profile === 'kafka' ? { ORCHESTRON_BROKER_TYPE: 'kafka', KAFKA_BROKERS: '127.0.0.1:9092' } : {}),
    };
    if (mode === 'file') env.ORCHESTRON_CONFIG = path.join(where, 'config.yaml');
    else for (const key of configKeys()) if (key.path in values) env[`${key.env}_FILE`] = fileOf(where, key.path);
    return new Target(await startApp(app, env), mode, where);
  }

  /** Writes `values` where this process reads them and waits until it has reloaded them. */
  async apply(values: Values): Promise<void> {
    write(this.mode, this.where, values);
    if (this.mode === 'sighup') this.app.child.kill('SIGHUP');
    const expected = this.reloadsSeen + 1;
    await eventually(async () => (await reloadCount(this.app, 'success')) >= expected, {
      timeoutMs: 10_000,
      message: () => `no reload after writing ${JSON.stringify(values)}:\n${this.app.output().slice(-3000)}`,
    });
    this.reloadsSeen = await reloadCount(this.app, 'success');
  }

  get url(): string {
    return this.app.url;
  }

  output(): string {
    return this.app.output();
  }
}

function fileOf(where: string, key: string): string {
  return path.join(where, `${key}.value`);
}

/** A value as the environment (and so a `<VAR>_FILE`) spells it. */
function envText(key: string, value: unknown): string {
  const format = configKeys().find((k) => k.path === key)?.format;
  if (Array.isArray(value) && format === 'string-list') return value.join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function nested(values: Values): Values {
  const root: Values = {};
  for (const [key, value] of Object.entries(values)) {
    const parts = key.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Values;
    node[parts.at(-1)!] = value;
  }
  return root;
}

function write(mode: 'file' | 'sighup', where: string, values: Values): void {
  if (mode === 'file') {
    // JSON is YAML; the counter makes every write a change the watcher reloads.
    writeFileSync(path.join(where, 'config.yaml'), `# write ${++sequence}\n${JSON.stringify(nested(values))}\n`);
  } else {
    for (const [key, value] of Object.entries(values)) writeFileSync(fileOf(where, key), envText(key, value));
  }
}

async function post(target: Target, body: unknown): Promise<Response> {
  return postEvents(target.url, body);
}

async function storedRoute(
  target: Target,
  body: unknown = signup(1),
): Promise<{ destination: string; routing_key: string }> {
  const response = await post(target, body);
  if (response.status !== 202) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
  const { id } = (await response.json()) as { id: string };
  const row = (await database.db('outbox').where({ event_id: id }).first()) as {
    destination: string;
    routing_key: string;
  };
  return row;
}

async function statuses(target: Target, count: number): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await post(target, signup(i))).status);
  return result;
}

/** Statuses of `count` requests with a key ingest does not know, `gapMs` apart. */
async function unknownKeyStatuses(target: Target, count: number, gapMs = 0): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0 && gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    const response = await fetch(`${target.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer orc_not_a_key_of_this_ingest' },
      body: JSON.stringify(signup(i)),
    });
    result.push(response.status);
  }
  return result;
}

async function readyCheck(target: Target, check: string): Promise<boolean | undefined> {
  const report = (await (await fetch(`${target.url}/ready`)).json()) as { checks: Record<string, { ok: boolean }> };
  return report.checks[check]?.ok;
}

function logLines(target: Target, message: string): number {
  return target
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{') && (JSON.parse(line) as { message?: string }).message === message).length;
}

const inFuture = (ms: number) => signup(1, { time: new Date(Date.now() + ms).toISOString() });
const silver = { type: 'tier.chosen', data: { tier: 'silver' } };

// Every process starts from these values (and each case's phases change its key from them).
const BASE: Values = {
  'api.rate_limit': 0,
  'api.rate_limit_burst': 0,
  'api.auth_failure_limit': 0,
  'api.auth_failure_window': '1m',
  'routing.default_exchange': 'reload_before',
  'routing.default_topic': 'reload_before',
  'routing.default_routing_key': '#',
  'routing.rules': [],
  'schemas.directory': 'schemas-before',
  'schemas.lists': { tiers: ['gold'] },
  'schemas.max_clock_skew': '5m',
  'schemas.accept_unknown_types_from': [],
  sources: {},
  'log.level': 'info',
  'health.max_event_loop_lag': '30s',
  'health.max_heap_used': '99%',
};

const CASES: Case[] = [
  {
    app: 'ingest',
    key: 'routing.default_exchange',
    before: 'reload_before',
    after: 'reload_after',
    shows: async (t, v) => (await storedRoute(t)).destination === (v === 'before' ? 'reload_before' : 'reload_after'),
  },
  {
    app: 'ingest',
    key: 'routing.default_topic',
    profile: 'kafka',
    before: 'reload_before',
    after: 'reload_after',
    shows: async (t, v) => (await storedRoute(t)).destination === (v === 'before' ? 'reload_before' : 'reload_after'),
  },
  {
    app: 'ingest',
    key: 'routing.default_routing_key',
    before: '#',
    after: 'fixed.key',
    shows: async (t, v) => (await storedRoute(t)).routing_key === (v === 'before' ? 'user.signed_up' : 'fixed.key'),
  },
  {
    app: 'ingest',
    key: 'routing.rules',
    before: [],
    after: [{ match: { type: 'user.*' }, destinations: [{ broker: 'rabbitmq', exchange: 'reload_ruled' }] }],
    shows: async (t, v) => (await storedRoute(t)).destination === (v === 'before' ? 'reload_before' : 'reload_ruled'),
  },
  {
    app: 'ingest',
    key: 'api.rate_limit',
    before: 0,
    after: 1,
    // Limit 1 per one-second window (no burst): of four requests at once, at most two (one
    // each side of a window boundary) get through.
    shows: async (t, v) => {
      const refused = (await statuses(t, 4)).filter((s) => s === 429).length;
      return v === 'before' ? refused === 0 : refused >= 2;
    },
  },
  {
    app: 'ingest',
    key: 'api.rate_limit_burst',
    context: { 'api.rate_limit': 1 },
    before: 0,
    after: 20,
    shows: async (t, v) => {
      const refused = (await statuses(t, 4)).filter((s) => s === 429).length;
      return v === 'before' ? refused >= 2 : refused === 0;
    },
  },
  {
    app: 'ingest',
    key: 'api.auth_failure_limit',
    before: 0,
    after: 2,
    // Four unknown keys from one address: 401 each with counting off, 429 past two failures.
    shows: async (t, v) => {
      const refused = (await unknownKeyStatuses(t, 4)).filter((s) => s === 429).length;
      return v === 'before' ? refused === 0 : refused >= 1;
    },
  },
  {
    app: 'ingest',
    key: 'api.auth_failure_window',
    context: { 'api.auth_failure_limit': 2 },
    before: '1h',
    after: '100ms',
    // Four failures 250 ms apart: within one hour-long window past the limit; each in a window
    // of its own once the window is 100 ms.
    shows: async (t, v) => {
      const refused = (await unknownKeyStatuses(t, 4, 250)).filter((s) => s === 429).length;
      return v === 'before' ? refused >= 1 : refused === 0;
    },
  },
  {
    app: 'ingest',
    key: 'schemas.directory',
    before: 'schemas-before',
    after: 'schemas-after',
    // Only the second directory has a schema for invoice.sent.
    shows: async (t, v) =>
      (await post(t, { ...signup(1), type: 'invoice.sent' })).status === (v === 'before' ? 422 : 202),
  },
  {
    app: 'ingest',
    key: 'schemas.lists',
    before: { tiers: ['gold'] },
    after: { tiers: ['gold', 'silver'] },
    // Before: refused by the list (not for want of a schema); after: accepted.
    shows: async (t, v) => {
      const response = await post(t, silver);
      if (v === 'after') return response.status === 202;
      const problem = (await response.json()) as { errors?: Array<{ pointer: string }> };
      return response.status === 422 && problem.errors?.[0]?.pointer === '/data/tier';
    },
  },
  {
    app: 'ingest',
    key: 'schemas.max_clock_skew',
    before: '5m',
    after: '2h',
    shows: async (t, v) => {
      const status = (await post(t, inFuture(60 * 60_000))).status;
      return v === 'before' ? status >= 400 && status < 500 : status === 202;
    },
  },
  {
    app: 'ingest',
    key: 'schemas.accept_unknown_types_from',
    before: [],
    after: ['*'],
    shows: async (t, v) => (await post(t, { type: 'mystery.thing', data: {} })).status === (v === 'before' ? 422 : 202),
  },
  {
    app: 'ingest',
    key: 'sources',
    before: {},
    after: { shop: { scheme: 'none' } },
    shows: async (t, v) => {
      const response = await fetch(`${t.url}/webhooks/shop`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'user.signed_up', user_id: 'u1', email: 'a@example.com' }),
      });
      return v === 'before' ? response.status === 404 : response.status !== 404;
    },
  },
  {
    app: 'ingest',
    key: 'log.level',
    before: 'info',
    after: 'debug',
    // At debug every request gets an access line.
    shows: async (t, v) => {
      const lines = logLines(t, 'request');
      expect((await post(t, signup(1))).status).toBe(202);
      if (v === 'before') return logLines(t, 'request') === lines;
      await eventually(() => logLines(t, 'request') > lines, { timeoutMs: 3_000, message: () => t.output() });
      return true;
    },
  },
  ...(['ingest', 'relay'] as const).flatMap((app): Case[] => [
    {
      app,
      key: 'health.max_event_loop_lag',
      before: '30s',
      after: '0ms',
      shows: async (t, v) => (await readyCheck(t, 'event_loop')) === (v === 'before'),
    },
    {
      app,
      key: 'health.max_heap_used',
      before: '99%',
      after: '1MB',
      shows: async (t, v) => (await readyCheck(t, 'memory')) === (v === 'before'),
    },
  ]),
  relayLogLevelCase(),
];

function relayLogLevelCase(): Case {
  let reloadedLines = 0;
  return {
    app: 'relay',
    key: 'log.level',
    before: 'info',
    after: 'warn',
    // A reload reports itself at info once it has applied the new level: at info the line is
    // written, at warn it no longer is.
    shows: async (t, v) => {
      const lines = logLines(t, 'configuration reloaded');
      if (v === 'after') return lines === reloadedLines;
      reloadedLines = lines;
      return lines > 0;
    },
  };
}

function resolved(values: Values): Values {
  const out = { ...values };
  for (const [key, value] of Object.entries(out)) {
    if (key === 'schemas.directory') out[key] = value === 'schemas-after' ? schemasAfter : schemasBefore;
  }
  return out;
}

beforeAll(async () => {
  database = await createTestDatabase('e2e_reload_every_key');
  dir = mkdtempSync(path.join(tmpdir(), 'orchestron-e2e-reload-every-key-'));
  schemasBefore = path.join(dir, 'schemas-before');
  schemasAfter = path.join(dir, 'schemas-after');
  for (const schemas of [schemasBefore, schemasAfter]) {
    cpSync(path.join(REPO_ROOT, 'schemas'), schemas, { recursive: true });
    mkdirSync(path.join(schemas, 'tier.chosen'));
    writeFileSync(
      path.join(schemas, 'tier.chosen', '1.json'),
      JSON.stringify({ type: 'object', properties: { tier: { type: 'string', allowedValuesFrom: 'tiers' } } }),
    );
  }
  cpSync(path.join(schemasAfter, 'user.signed_up'), path.join(schemasAfter, 'invoice.sent'), { recursive: true });
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await database.drop();
});

describe('every reloadable key', () => {
  it('has a case here for each app that reloads it', () => {
    for (const app of ['ingest', 'relay'] as const) {
      const covered = CASES.filter((c) => c.app === app).map((c) => c.key);
      expect(covered.sort()).toEqual(reloadableKeysOf(app).sort());
    }
  });

  describe.each(['file', 'sighup'] as const)('changed by %s', (mode) => {
    const targets = new Map<string, Target>();

    afterAll(async () => {
      await Promise.all([...targets.values()].map((t) => t.app.kill()));
    });

    async function targetFor(c: Case): Promise<Target> {
      const id = `${c.app}:${c.profile ?? ''}`;
      let target = targets.get(id);
      if (!target) {
        const values = resolved(BASE);
        const where = mkdtempSync(path.join(dir, `${c.app}-${mode}-`));
        write(mode, where, values);
        target = await Target.startIn(where, c.app, mode, c.profile, values);
        targets.set(id, target);
      }
      return target;
    }

    it.each(CASES.map((c) => [`${c.app} ${c.key}`, c] as const))(
      '%s takes effect without a restart',
      async (_name, c) => {
        const target = await targetFor(c);
        const pid = target.app.child.pid;
        await target.apply(resolved({ ...BASE, ...c.context, [c.key]: c.before }));
        expect(await c.shows(target, 'before')).toBe(true);
        await target.apply(resolved({ ...BASE, ...c.context, [c.key]: c.after }));
        expect(await c.shows(target, 'after')).toBe(true);
        expect(target.app.child.pid).toBe(pid);
        expect(target.app.child.exitCode).toBeNull();
        // Back to the base values for the next case on this process.
        await target.apply(resolved(BASE));
      },
    );
  });
});
