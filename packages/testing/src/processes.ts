import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

/** The repository root (the apps' built entry points live under it). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');

/** A port that was free a moment ago, for a process the test is about to start. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface AppProcess {
  readonly child: ChildProcess;
  /** Base URL of its HTTP server (ingest API, or relay health and metrics). */
  readonly url: string;
  /** Everything it wrote to stdout and stderr, for assertions and failure messages. */
  output(): string;
  readonly exited: Promise<number | null>;
  /** SIGKILL: no shutdown code runs, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  timeoutMs?: number;
  /** `https` for an ingest with api.tls; `probe` must then reach it (fetch cannot take a CA). */
  protocol?: 'http' | 'https';
  /** Resolves true once the app answers; default: GET <url>/health is 2xx. */
  probe?: (url: string) => Promise<boolean>;
}

/**
 * Starts a built app (`node apps/<name>/dist/main.js`) with the given environment on top of
 * a clean one, and waits until its /health answers. An `undefined` value removes one of the
 * defaults set here (e.g. ORCHESTRON_LOG_LEVEL, so the config file decides).
 */
export async function startApp(
  name: 'ingest' | 'relay' | 'admin',
  env: Record<string, string | undefined>,
  options: StartOptions = {},
): Promise<AppProcess> {
  const port = await freePort();
  const addressKey = {
    ingest: 'ORCHESTRON_API_ADDRESS',
    relay: 'ORCHESTRON_RELAY_ADDRESS',
    admin: 'ORCHESTRON_ADMIN_ADDRESS',
  }[name];
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'apps', name, 'dist', 'main.js')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ORCHESTRON_LOG_LEVEL: 'info',
      ORCHESTRON_SCHEMAS_DIRECTORY: path.join(REPO_ROOT, 'schemas'),
      [addressKey]: `127.0.0.1:${port}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `${options.protocol ?? 'http'}://127.0.0.1:${port}`;
  const probe = options.probe ?? (async (base: string) => (await fetch(`${base}/health`)).ok);

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let alive = true;
  void exited.then(() => (alive = false));
  for (;;) {
    if (!alive) throw new Error(`${name} exited during start:\n${output}`);
    try {
      if (await probe(url)) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer /health in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    child,
    url,
    output: () => output,
    exited,
    async kill() {
      if (alive) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (alive) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls `probe` until it returns true, or fails with `message` after `timeoutMs`. */
export async function eventually(
  probe: () => Promise<boolean> | boolean,
  options: { timeoutMs: number; message: () => string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${options.message()}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
