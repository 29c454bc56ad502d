import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@orchestron/testing';

/** The built command, as operators run it. Build (`npx tsc -b`) before these tests. */
const CLI = path.join(REPO_ROOT, 'apps', 'cli', 'dist', 'main.js');

export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves once stderr contains `text`; rejects if the process exits or the time runs out first. */
  waitForStderr(text: string, timeoutMs: number): Promise<void>;
}

/** Starts `node apps/cli/dist/main.js ...args` with `env` on top of a clean environment. */
export function spawnCli(args: readonly string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let alive = true;
  void exited.then(() => (alive = false));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitForStderr(text, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!stderr.includes(text)) {
        if (!alive) throw new Error(`orchestron exited before printing "${text}":\n${stderr}${stdout}`);
        if (Date.now() > deadline) throw new Error(`orchestron did not print "${text}" in time:\n${stderr}${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the command to its end (killed after `timeoutMs`). */
export async function runCli(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<CliResult> {
  const cli = spawnCli(args, env);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs);
  try {
    const code = await cli.exited;
    return { code, stdout: cli.stdout(), stderr: cli.stderr() };
  } finally {
    clearTimeout(timer);
  }
}
