import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

// A real ingest process reading its config file; the file is rewritten under it, as an
// operator (or a ConfigMap update) would, and the next request shows the effect.

let database: TestDatabase;
let ingest: AppProcess;
let dir: string;
let configFile: string;
let schemasDir: string;

function writeConfig(yaml: string): void {
  writeFileSync(configFile, yaml);
}

async function waitForReload(result: 'success' | 'failure', count = 1, app: AppProcess = ingest): Promise<void> {
  await eventually(async () => (await reloadCount(app, result)) >= count, {
    timeoutMs: 5_000,
    message: () => `no ${result} reload counted; output:\n${app.output()}`,
  });
}

function linesOf(app: AppProcess, message: string): Array<Record<string, unknown>> {
  return app
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => typeof line.message === 'string' && line.message.startsWith(message));
}

async function destinationsOf(eventId: string): Promise<string[]> {
  const rows = (await database.db('outbox').where({ event_id: eventId }).select('destination')) as Array<{
    destination: string;
  }>;
  return rows.map((r) => r.destination).sort();
}

async function postOne(n: number, type = 'user.signed_up'): Promise<Response> {
  return postEvents(ingest.url, { ...signup(n), type });
}

beforeAll(async () => {
  database = await createTestDatabase('e2e_config_reload');
});

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'orchestron-e2e-reload-'));
  configFile = path.join(dir, 'config.yaml');
  schemasDir = path.join(dir, 'schemas');
  cpSync(path.join(REPO_ROOT, 'schemas'), schemasDir, { recursive: true });
  writeConfig('api: {rate_limit: 0}\nrouting: {default_exchange: before}\n');
  ingest = await startApp('ingest', {
    DATABASE_URL: database.url,
    ORCHESTRON_CONFIG: configFile,
    ORCHESTRON_API_REQUIRE_API_KEY: 'false',
    // The file decides the log level.
    ORCHESTRON_LOG_LEVEL: undefined,
    ORCHESTRON_SCHEMAS_DIRECTORY: schemasDir,
  });
});

afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  await ingest?.kill();
});

afterAll(async () => {
  await database.drop();
});

describe('ingest configuration reload', () => {
  it('routes the next event by the rules written into its config file', async () => {
    const first = (await (await postOne(1)).json()) as { id: string };
    expect(await destinationsOf(first.id)).toEqual(['before']);

    writeConfig(`api: {rate_limit: 0}
routing:
  default_exchange: before
  rules:
    - match: {type: "user.*"}
      destinations: [{broker: rabbitmq, exchange: users}, {broker: rabbitmq, exchange: audit}]
`);
    await waitForReload('success');

    const second = (await (await postOne(2)).json()) as { id: string };
    expect(await destinationsOf(second.id)).toEqual(['audit', 'users']);
    expect(await destinationsOf(first.id)).toEqual(['before']);
  });

  it('rate-limits the next requests once a limit is written into its config file', async () => {
    for (let i = 0; i < 5; i++) expect((await postOne(10 + i)).status).toBe(202);

    writeConfig('api: {rate_limit: 1, rate_limit_burst: 0}\nrouting: {default_exchange: before}\n');
    await waitForReload('success');

    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postOne(20 + i)).status);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 202).length).toBeLessThanOrEqual(1);
  });

  it('refuses an invalid file and keeps serving with the config it had, counting the failure', async () => {
    writeConfig('api: {rate_limit: 0}\nrouting: {default_exchange: kept}\n');
    await waitForReload('success');

    writeConfig('api: {rate_limit: -3}\nrouting: {default_exchange: 17, rules: [{match: {}}]}\n');
    await waitForReload('failure');

    const response = await postOne(30);
    expect(response.status).toBe(202);
    expect(await destinationsOf(((await response.json()) as { id: string }).id)).toEqual(['kept']);
    expect((await fetch(`${ingest.url}/ready`)).status).toBe(200);
    const refusals = () => linesOf(ingest, 'configuration reload refused; the running configuration stays in effect');
    await eventually(() => refusals().length > 0, { timeoutMs: 2_000, message: () => ingest.output() });
    const problems = refusals()[0]?.problems as string[];
    expect(problems.join('\n')).toMatch(/api\.rate_limit/);
    expect(problems.join('\n')).toMatch(/routing\.rules/);
    expect(problems.join('\n')).toMatch(/routing\.default_exchange/);
  });

  it('accepts an event type once its schema file appears, and keeps the old schemas when one is broken', async () => {
    expect((await postOne(40, 'invoice.sent')).status).toBe(422);

    cpSync(path.join(schemasDir, 'user.signed_up'), path.join(schemasDir, 'invoice.sent'), { recursive: true });
    await waitForReload('success');
    expect((await postOne(41, 'invoice.sent')).status).toBe(202);

    writeFileSync(path.join(schemasDir, 'invoice.sent', '2.json'), '{"type": "no-such-type"}');
    await waitForReload('failure');
    expect((await postOne(42, 'invoice.sent')).status).toBe(202);
  });

  it('reloads on SIGHUP instead of exiting', async () => {
    ingest.child.kill('SIGHUP');
    await waitForReload('success');
    expect(ingest.child.exitCode).toBeNull();
    expect((await postOne(50)).status).toBe(202);
  });

  it('keeps the database settings it started with when they change, and says a restart is needed', async () => {
    writeConfig('api: {rate_limit: 0}\nrouting: {default_exchange: before}\ndatabase: {max_connections: 3}\n');
    await waitForReload('success');
    const warnings = () => linesOf(ingest, 'configuration keys changed that take effect only after a restart');
    await eventually(() => warnings().length > 0, { timeoutMs: 2_000, message: () => ingest.output() });
    expect(warnings()[0]?.keys).toEqual(['database.max_connections']);
    expect((await postOne(51)).status).toBe(202);
  });

  it('switches to debug logging (access lines) when the level in its file changes', async () => {
    expect((await postOne(60)).status).toBe(202);
    expect(linesOf(ingest, 'request')).toEqual([]);

    writeConfig('api: {rate_limit: 0}\nrouting: {default_exchange: before}\nlog: {level: debug}\n');
    await waitForReload('success');
    expect((await postOne(61)).status).toBe(202);
    const posted = () => linesOf(ingest, 'request').filter((line) => line.route === '/events');
    await eventually(() => posted().length > 0, { timeoutMs: 2_000, message: () => ingest.output() });
    expect(posted()).toHaveLength(1);
    expect(posted()[0]).toMatchObject({ method: 'POST', status: 202 });
  });
});

describe('relay configuration reload', () => {
  it('applies a new log level and keeps start-only keys, naming them as needing a restart', async () => {
    const relayConfig = path.join(dir, 'relay.yaml');
    writeFileSync(relayConfig, 'outbox: {batch_size: 100}\n');
    const relay = await startApp('relay', {
      DATABASE_URL: database.url,
      AMQP_URL: amqpUrl(),
      ORCHESTRON_CONFIG: relayConfig,
      ORCHESTRON_LOG_LEVEL: undefined,
    });
    try {
      writeFileSync(relayConfig, 'outbox: {batch_size: 5}\nlog: {level: warn}\n');
      await waitForReload('success', 1, relay);
      // Already at warn when the reload reports itself: its info line is not written.
      const restartWarnings = () => linesOf(relay, 'configuration keys changed that take effect only after a restart');
      await eventually(() => restartWarnings().length > 0, { timeoutMs: 2_000, message: () => relay.output() });
      expect(restartWarnings()[0]?.keys).toEqual(['outbox.batch_size']);
      expect(linesOf(relay, 'configuration reloaded')).toEqual([]);

      writeFileSync(relayConfig, 'outbox: {batch_size: 5}\nlog: {level: info}\n');
      relay.child.kill('SIGHUP');
      await waitForReload('success', 2, relay);
      await eventually(() => linesOf(relay, 'configuration reloaded').length > 0, {
        timeoutMs: 2_000,
        message: () => relay.output(),
      });
      expect(linesOf(relay, 'configuration reloaded').map((line) => line.changed)).toEqual([['log.level']]);
    } finally {
      await relay.kill();
    }
  });
});
