import { amqpUrl, createTestDatabase, startApp, type AppProcess, type TestDatabase } from '@orchestron/testing';

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

async function start(name: 'ingest' | 'relay', env: Record<string, string> = {}): Promise<AppProcess> {
  const app = await startApp(name, { DATABASE_URL: database.url, AMQP_URL: amqpUrl(), ...env });
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
    expect(Object.keys(report.checks).sort()).toEqual(['database', 'event_loop', 'memory']);
    expect(report.checks.event_loop).toMatchObject({ ok: true, maxLagMs: 1000 });
    expect(report.checks.memory).toMatchObject({ ok: true });
    expect(report.checks.memory?.heapUsedBytes).toBeGreaterThan(0);
  });

  it('relay reports the database, its broker, event loop and memory checks', async () => {
    const relay = await start('relay', { ORCHESTRON_BROKER_TYPE: 'rabbitmq' });
    const { report } = await ready(relay.url);
    expect(Object.keys(report.checks).sort()).toEqual(['database', 'event_loop', 'memory', 'rabbitmq']);
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
});
