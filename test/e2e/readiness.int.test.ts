import { migrationsDirectory, shippedMigrations } from '@orchestron/db';
import {
  amqpUrl,
  createTestDatabase,
  eventually,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { runCli } from '../../apps/cli/test/run-cli';

// /ready of both apps as deployed: every check in the report, and the process-level checks
// (event loop, memory) able to take a pod out of rotation while /health stays trivial.

let database: TestDatabase;
const running: AppProcess[] = [];

interface Report {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string } & Record<string, unknown>>;
}

async function ready(url: string): Promise<{ status: number; report: Report }> {
  const response = await fetch(`${url}/ready`);
  return { status: response.status, report: (await response.json()) as Report };
}

async function start(
  name: 'ingest' | 'relay' | 'admin',
  env: Record<string, string> = {},
  on: TestDatabase = database,
): Promise<AppProcess> {
  const app = await startApp(name, { DATABASE_URL: on.url, AMQP_URL: amqpUrl(), ...env });
  running.push(app);
  return app;
}

beforeAll(async () => {
  database = await createTestDatabase('e2e_readiness');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.kill()));
});

afterAll(async () => {
  await database.drop();
});

describe('readiness', () => {
  it('ingest reports the database, event loop and memory checks, each with what it measured', async () => {
    const ingest = await start('ingest');
    const { status, report } = await ready(ingest.url);
    expect(status).toBe(200);
    expect(Object.keys(report.checks).sort()).toEqual(['database', 'event_loop', 'memory', 'schema']);
    expect(report.checks.schema).toMatchObject({ ok: true });
    expect(report.checks.event_loop).toMatchObject({ ok: true, maxLagMs: 1000 });
    expect(report.checks.memory).toMatchObject({ ok: true });
    expect(report.checks.memory?.heapUsedBytes).toBeGreaterThan(0);
  });

  it('relay reports the database, its broker, event loop and memory checks', async () => {
    const relay = await start('relay', { ORCHESTRON_BROKER_TYPE: 'rabbitmq' });
    const { report } = await ready(relay.url);
    expect(Object.keys(report.checks).sort()).toEqual(['database', 'event_loop', 'memory', 'rabbitmq', 'schema']);
    expect(report.checks.schema).toMatchObject({ ok: true });
    expect(report.checks.database?.ok).toBe(true);
    expect(report.checks.event_loop?.ok).toBe(true);
  });

  it('is not ready above the heap threshold, while liveness still answers', async () => {
    const ingest = await start('ingest', { ORCHESTRON_HEALTH_MAX_HEAP_USED: '1MB' });
    const { status, report } = await ready(ingest.url);
    expect(status).toBe(503);
    expect(report.checks.memory).toMatchObject({ ok: false, maxHeapUsedBytes: 1024 * 1024 });
    expect(report.checks.database?.ok).toBe(true);
    expect((await fetch(`${ingest.url}/health`)).status).toBe(200);

    const relay = await start('relay', { ORCHESTRON_HEALTH_MAX_HEAP_USED: '1MB' });
    expect((await ready(relay.url)).status).toBe(503);
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);
  });

  describe('while the schema is behind this build', () => {
    const shipped = shippedMigrations();
    const needs = shipped.at(-1)!.split('_')[0]!;
    const previous = shipped.at(-2)!.split('_')[0]!;
    const behind: TestDatabase[] = [];

    afterAll(async () => {
      await Promise.all(behind.map((db) => db.drop()));
    });

    it('on an empty database both apps are not ready and say to migrate; migrate status --check exits 1, then 0', async () => {
      const empty = await createTestDatabase('e2e_readiness_empty', { empty: true });
      behind.push(empty);
      const reason = `database has no schema (knex_migrations is missing), this build needs ${needs}: run \`orchestron migrate latest\``;
      const ingest = await start('ingest', {}, empty);
      const relay = await start('relay', { ORCHESTRON_BROKER_TYPE: 'rabbitmq' }, empty);
      for (const app of [ingest, relay]) {
        const { status, report } = await ready(app.url);
        expect(status).toBe(503);
        expect(report.checks.schema).toEqual({ ok: false, error: reason });
        expect(report.checks.database?.ok).toBe(true);
        expect((await fetch(`${app.url}/health`)).status).toBe(200);
      }

      const check = await runCli(['migrate', 'status', '--check'], { DATABASE_URL: empty.url });
      expect(check).toMatchObject({ code: 1, stdout: `${reason}\n` });
      // The check changed nothing: knex's table is still missing.
      expect((await empty.db.raw(`select to_regclass('knex_migrations') as t`)).rows[0].t).toBeNull();

      expect((await runCli(['migrate', 'latest'], { DATABASE_URL: empty.url })).code).toBe(0);
      // Both turn ready by themselves, without a restart.
      for (const app of [ingest, relay]) {
        await eventually(async () => (await ready(app.url)).status === 200, {
          timeoutMs: 10_000,
          message: () => `${app.url} did not turn ready after the migration`,
        });
      }
      const current = await runCli(['migrate', 'status', '--check', '--json'], { DATABASE_URL: empty.url });
      expect(current.code).toBe(0);
      expect(JSON.parse(current.stdout)).toMatchObject({ current: true, at: needs, needs, missing: [] });
    });

    it('on a database one migration behind ingest, relay and admin name the version it is at and the one they need', async () => {
      const old = await createTestDatabase('e2e_readiness_behind');
      behind.push(old);
      await old.db.migrate.down({ directory: migrationsDirectory(), loadExtensions: ['.js'] });
      const reason = `database schema at ${previous}, this build needs ${needs}: run \`orchestron migrate latest\``;
      const ingest = await start('ingest', {}, old);
      const relay = await start('relay', { ORCHESTRON_BROKER_TYPE: 'rabbitmq' }, old);
      const admin = await start('admin', {}, old);
      for (const app of [ingest, relay, admin]) {
        const { status, report } = await ready(app.url);
        expect(status).toBe(503);
        expect(report.checks.schema).toEqual({ ok: false, error: reason });
      }
      const check = await runCli(['migrate', 'status', '--check'], { DATABASE_URL: old.url });
      expect(check).toMatchObject({ code: 1, stdout: `${reason}\n` });
    });
  });
});
