import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, REPO_ROOT, startApp, type TestDatabase } from '@orchestron/testing';
import { runCli } from './run-cli';

// `orchestron` as a command: linked at the repository root by the install, a version, exit
// status 2 with the command's usage for every usage error, JSON errors with --json; and the
// demo key `npm start` prints a working curl with.

const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'apps/cli/package.json'), 'utf8')) as { version: string })
  .version;

let database: TestDatabase;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase('cli_command_line');
  dir = mkdtempSync(path.join(tmpdir(), 'orchestron-cli-'));
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await database.drop();
});

describe('orchestron', () => {
  it('is linked at the repository root and tells its version', async () => {
    const linked = spawnSync(path.join(REPO_ROOT, 'node_modules/.bin/orchestron'), ['--version'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect({ status: linked.status, stdout: linked.stdout }).toEqual({ status: 0, stdout: `orchestron ${VERSION}\n` });
    expect(await runCli(['--version', '--json'], {})).toMatchObject({ code: 0, stdout: `{"version":"${VERSION}"}\n` });
  });

  it.each([
    [[], 'usage: orchestron [--config FILE]'],
    [['frobnicate'], 'usage: orchestron [--config FILE]'],
    [['--frobnicate'], 'usage: orchestron [--config FILE]'],
    [['migrate', 'sideways'], 'usage: orchestron migrate'],
    [['migrate', 'latest', '--check'], 'usage: orchestron migrate'],
    [['outbox'], 'usage: orchestron outbox'],
    [['outbox', 'stats', '--frobnicate'], 'usage: orchestron outbox'],
    [['dlq', 'bogus'], 'usage: orchestron dlq'],
    [['dlq', 'list', '--limit'], 'usage: orchestron dlq'],
    [['dlq', 'list', '--limit', 'many'], 'usage: orchestron dlq'],
    [['tail'], 'usage: orchestron tail'],
    [['tail', 'events', '--max', '0'], 'usage: orchestron tail'],
    [['keys'], 'usage: orchestron keys'],
    [['keys', 'create'], 'usage: orchestron keys'],
  ])('exits 2 with the usage for %j', async (args, usage) => {
    const result = await runCli(args, { DATABASE_URL: database.url });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^orchestron: .+\n/);
    expect(result.stderr).toContain(usage);
    expect(result.stdout).toBe('');

    const json = await runCli([...args, '--json'], { DATABASE_URL: database.url });
    expect(json.code).toBe(2);
    expect(json.stdout).toBe('');
    const error = (JSON.parse(json.stderr) as { error: Record<string, unknown> }).error;
    expect(error).toMatchObject({ kind: 'usage', exitCode: 2 });
    expect(error.message).toEqual(expect.any(String));
    expect(error.usage).toContain(usage);
  });

  it('reports a failure that is not a usage error as JSON with --json, with exit status 1', async () => {
    const result = await runCli(['outbox', 'stats', '--json'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
      ORCHESTRON_DATABASE_CONNECT_TIMEOUT: '2s',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { kind: 'error', exitCode: 1 } });
  });
});

describe('the demo key of npm start', () => {
  const demoKey = (file: string) => {
    const run = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/demo-key.sh')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, ORCHESTRON_DEMO_KEY_FILE: file },
    });
    if (run.status !== 0) throw new Error(`demo-key.sh failed (${run.status}):\n${run.stderr}`);
    return run.stdout.trim();
  };

  it('is created on the first run, reused on the next, replaced once revoked, and gets a 202', async () => {
    const file = path.join(dir, 'demo-key');
    const key = demoKey(file);
    expect(key).toMatch(/^orc_/);
    expect(readFileSync(file, 'utf8').trim()).toBe(key);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(demoKey(file)).toBe(key);

    const ingest = await startApp('ingest', { DATABASE_URL: database.url });
    try {
      // The request start.sh prints.
      const response = await fetch(`${ingest.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({
          type: 'user.signed_up',
          data: { user_id: 'u1', email: 'a@example.com', signed_up_at: '2026-11-26T10:00:00Z' },
        }),
      });
      expect(response.status).toBe(202);
    } finally {
      await ingest.kill();
    }

    await database.db('api_keys').update({ revoked_at: database.db.fn.now() });
    const replaced = demoKey(file);
    expect(replaced).not.toBe(key);
    expect(readFileSync(file, 'utf8').trim()).toBe(replaced);
  });
});
