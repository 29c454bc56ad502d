import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configReloadMetrics, createRegistry } from '@orchestron/observability';
import { ConfigReloader, loadConfig, type OrchestronConfig, type ReloadOutcome } from '../src';

interface Captured {
  level: 'info' | 'warn' | 'error';
  message: string;
  meta?: Record<string, unknown>;
}

let dir: string;
let file: string;
let registry: ReturnType<typeof createRegistry>;
let logged: Captured[];
let applied: OrchestronConfig[];
const reloaders: ConfigReloader[] = [];

const logger = {
  info: (message: string, meta?: Record<string, unknown>) => logged.push({ level: 'info', message, meta }),
  warn: (message: string, meta?: Record<string, unknown>) => logged.push({ level: 'warn', message, meta }),
  error: (message: string, meta?: Record<string, unknown>) => logged.push({ level: 'error', message, meta }),
};

function writeConfig(text: string): void {
  writeFileSync(file, text);
}

function reloaderFor(options: Partial<ConstructorParameters<typeof ConfigReloader>[0]> = {}): ConfigReloader {
  const reloader = new ConfigReloader({
    initial: loadConfig({ file, env: {} }),
    load: () => loadConfig({ file, env: {} }),
    reloadable: ['routing', 'api.rate_limit', 'api.rate_limit_burst', 'log.level'],
    unused: ['relay'],
    apply: (next) => {
      applied.push(next);
    },
    files: [file],
    debounceMs: 50,
    logger,
    metrics: configReloadMetrics(registry),
    ...options,
  });
  reloaders.push(reloader);
  return reloader;
}

async function reloadCount(result: 'success' | 'failure'): Promise<number> {
  const metric = await registry.getSingleMetric('orchestron_config_reloads_total')?.get();
  return metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
}

async function lastSuccess(): Promise<number> {
  const metric = await registry.getSingleMetric('orchestron_config_last_reload_success_timestamp_seconds')?.get();
  return metric?.values[0]?.value ?? 0;
}

async function waitFor(probe: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a reload');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'orchestron-reload-'));
  file = path.join(dir, 'config.yaml');
  writeConfig('api: {rate_limit: 100}\nlog: {level: info}\n');
  registry = createRegistry('reload-test');
  logged = [];
  applied = [];
});

afterEach(async () => {
  await Promise.all(reloaders.splice(0).map((r) => r.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('ConfigReloader', () => {
  it('applies a changed config file without being asked, and counts the success', async () => {
    const reloader = reloaderFor();
    reloader.start();
    writeConfig(
      'api: {rate_limit: 5}\nlog: {level: debug}\nrouting: {rules: [{match: {type: "a.*"}, destinations: [{broker: kafka, topic: t}]}]}\n',
    );

    await waitFor(() => applied.length > 0);
    expect(reloader.current().api.rate_limit).toBe(5);
    expect(reloader.current().log.level).toBe('debug');
    expect(reloader.current().routing.rules).toHaveLength(1);
    expect(applied[0]?.api.rate_limit).toBe(5);
    expect(await reloadCount('success')).toBe(1);
    expect(await reloadCount('failure')).toBe(0);
    expect(logged.find((l) => l.message === 'configuration reloaded')?.meta?.changed).toEqual(
      expect.arrayContaining(['api.rate_limit', 'log.level', 'routing.rules']),
    );
  });

  it('refuses an invalid file whole, keeps the running config, logs every problem and counts the failure', async () => {
    const reloader = reloaderFor();
    reloader.start();
    writeConfig('api: {rate_limit: -1}\nlog: {level: loud}\n');

    const outcome = await reloader.reload('watch');
    expect(outcome.result).toBe('failure');
    expect(outcome.problems.join('\n')).toMatch(/api\.rate_limit/);
    expect(outcome.problems.join('\n')).toMatch(/log\.level/);
    expect(applied).toEqual([]);
    expect(reloader.current().api.rate_limit).toBe(100);
    expect(reloader.current().log.level).toBe('info');
    expect(await reloadCount('failure')).toBe(1);
    expect(await reloadCount('success')).toBe(0);
    const error = logged.find((l) => l.level === 'error');
    expect(error?.meta?.problems).toEqual(outcome.problems);
  });

  it('refuses a config its apply step rejects (a broken schema) and keeps the old one', async () => {
    const reloader = reloaderFor({
      apply: () => {
        throw new Error('invalid schemas:\n  - schemas/a/1.json: Unexpected token');
      },
    });
    reloader.start();
    writeConfig('api: {rate_limit: 7}\n');

    const outcome = await reloader.reload('signal');
    expect(outcome).toMatchObject({
      result: 'failure',
      problems: ['invalid schemas:', 'schemas/a/1.json: Unexpected token'],
    });
    expect(reloader.current().api.rate_limit).toBe(100);
    expect(await reloadCount('failure')).toBe(1);
  });

  it('keeps keys that need a restart at their old value and warns about them by name only', async () => {
    writeConfig('database: {host: db-a, password: old-secret}\napi: {rate_limit: 100}\n');
    const reloader = reloaderFor();
    writeConfig('database: {host: db-b, password: new-secret}\napi: {rate_limit: 3}\nrelay: {address: ":9999"}\n');

    const outcome = await reloader.reload('signal');
    expect(outcome.result).toBe('success');
    expect(outcome.restartNeeded.sort()).toEqual(['database.host', 'database.password']);
    expect(reloader.current().database.host).toBe('db-a');
    expect(reloader.current().database.password).toBe('old-secret');
    expect(reloader.current().api.rate_limit).toBe(3);
    const warning = logged.find((l) => l.level === 'warn');
    expect(warning?.meta?.keys).toEqual(expect.arrayContaining(['database.host', 'database.password']));
    expect(JSON.stringify(logged)).not.toContain('secret');
  });

  it('reloads on SIGHUP even when nothing changed', async () => {
    const reloader = reloaderFor();
    reloader.start();
    process.emit('SIGHUP', 'SIGHUP');
    await waitFor(() => applied.length === 1);
    expect(await reloadCount('success')).toBe(1);

    await reloader.stop();
    expect(process.listeners('SIGHUP')).toHaveLength(0);
  });

  it('ignores file events that leave the watched content as it was', async () => {
    const reloader = reloaderFor();
    reloader.start();
    writeFileSync(path.join(dir, 'unrelated.txt'), 'x');
    writeConfig('api: {rate_limit: 100}\nlog: {level: info}\n');

    expect((await reloader.reload('watch')).result).toBe('unchanged');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(applied).toEqual([]);
    expect(await reloadCount('success')).toBe(0);
  });

  it('notices a config file replaced by a symlink swap, as a Kubernetes ConfigMap update does', async () => {
    // kubelet's layout: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>/
    const mount = path.join(dir, 'mount');
    mkdirSync(path.join(mount, '..v1'), { recursive: true });
    writeFileSync(path.join(mount, '..v1', 'config.yaml'), 'api: {rate_limit: 100}\n');
    symlinkSync('..v1', path.join(mount, '..data'));
    symlinkSync('..data/config.yaml', path.join(mount, 'config.yaml'));
    file = path.join(mount, 'config.yaml');
    const reloader = reloaderFor();
    reloader.start();

    mkdirSync(path.join(mount, '..v2'));
    writeFileSync(path.join(mount, '..v2', 'config.yaml'), 'api: {rate_limit: 42}\n');
    symlinkSync('..v2', path.join(mount, '..data_tmp'));
    renameSync(path.join(mount, '..data_tmp'), path.join(mount, '..data'));
    rmSync(path.join(mount, '..v1'), { recursive: true });

    await waitFor(() => applied.length > 0);
    expect(reloader.current().api.rate_limit).toBe(42);
  });

  it('reloads when a file below a watched directory changes (a schema)', async () => {
    const schemas = path.join(dir, 'schemas');
    mkdirSync(path.join(schemas, 'order.created'), { recursive: true });
    writeFileSync(path.join(schemas, 'order.created', '1.json'), '{"type": "object"}');
    const reloader = reloaderFor({ directories: () => [schemas] });
    reloader.start();

    writeFileSync(path.join(schemas, 'order.created', '1.json'), '{"type": "object", "required": ["id"]}');
    await waitFor(() => applied.length > 0);
    expect(await reloadCount('success')).toBe(1);
  });

  it('sets the last success timestamp at start and after each successful reload, not after a failure', async () => {
    const before = Date.now() / 1000;
    const reloader = reloaderFor();
    reloader.start();
    const atStart = await lastSuccess();
    expect(atStart).toBeGreaterThanOrEqual(before - 1);

    writeConfig('api: {rate_limit: nope}\n');
    await reloader.reload('signal');
    expect(await lastSuccess()).toBe(atStart);

    await new Promise((resolve) => setTimeout(resolve, 10));
    writeConfig('api: {rate_limit: 9}\n');
    await reloader.reload('signal');
    expect(await lastSuccess()).toBeGreaterThan(atStart);
  });

  it('runs reloads one at a time, in the order asked', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const reloader = reloaderFor({
      apply: async (next) => {
        order.push(`start ${next.api.rate_limit}`);
        if (order.length === 1) await gate;
        order.push(`end ${next.api.rate_limit}`);
      },
    });
    writeConfig('api: {rate_limit: 1}\n');
    const first = reloader.reload('signal');
    const second: Promise<ReloadOutcome> = reloader.reload('signal');
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['start 1', 'end 1', 'start 1', 'end 1']);
  });

  it('stops watching after stop()', async () => {
    const reloader = reloaderFor();
    reloader.start();
    await reloader.stop();
    writeConfig('api: {rate_limit: 1}\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(applied).toEqual([]);
  });
});
