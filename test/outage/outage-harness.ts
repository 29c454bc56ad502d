import type { Knex } from 'knex';
import type { AppProcess } from '@orchestron/testing';
import { signup } from '../e2e/harness';

/**
 * Events POSTed to ingest without pause, a small batch at a time, until stopped (or the count
 * or time bound is reached: every load loop in the tests is bounded). Records the ids ingest
 * accepted and any answer that was not a 202.
 */
export class SteadyLoad {
  static start(
    ingestUrl: string,
    options: { batchSize?: number; pauseMs?: number; maxEvents?: number; maxDurationMs?: number } = {},
  ): SteadyLoad {
    return new SteadyLoad(ingestUrl, {
      batchSize: options.batchSize ?? 5,
      pauseMs: options.pauseMs ?? 100,
      maxEvents: options.maxEvents ?? 10_000,
      maxDurationMs: options.maxDurationMs ?? 150_000,
    });
  }

  readonly accepted: string[] = [];
  /** Anything but a 202: status (0 for a network error), when, and the body. */
  readonly failures: Array<{ status: number; at: number; body: string }> = [];
  private stopped = false;
  private readonly running: Promise<void>;

  private constructor(
    private readonly ingestUrl: string,
    private readonly options: { batchSize: number; pauseMs: number; maxEvents: number; maxDurationMs: number },
  ) {
    this.running = this.run();
  }

  /** Stops sending; resolves when the request in flight has been answered. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async run(): Promise<void> {
    const deadline = Date.now() + this.options.maxDurationMs;
    let sequence = 0;
    while (!this.stopped && this.accepted.length < this.options.maxEvents && Date.now() < deadline) {
      const batch = Array.from({ length: this.options.batchSize }, () => signup(sequence++));
      try {
        const response = await fetch(`${this.ingestUrl}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(batch),
          signal: AbortSignal.timeout(10_000),
        });
        if (response.status === 202) this.accepted.push(...((await response.json()) as { ids: string[] }).ids);
        else this.failures.push({ status: response.status, at: Date.now(), body: await response.text() });
      } catch (error) {
        this.failures.push({ status: 0, at: Date.now(), body: (error as Error).message });
      }
      // Pacing, so the load stays steady instead of saturating the machine.
      await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
    }
  }
}

export interface Readiness {
  status: number;
  checks: Record<string, { ok: boolean; error?: string }>;
}

/** The relay's /ready: its status and per-check report (status 0 if it did not answer). */
export async function readiness(relay: AppProcess): Promise<Readiness> {
  try {
    const response = await fetch(`${relay.url}/ready`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { checks?: Readiness['checks'] };
    return { status: response.status, checks: body.checks ?? {} };
  } catch {
    return { status: 0, checks: {} };
  }
}

export async function outboxSummary(db: Knex): Promise<{ total: number; published: number; maxAttempts: number }> {
  const [row] = (await db('outbox').select(
    db.raw('count(*)::int as total'),
    db.raw(`count(*) filter (where status = 'published')::int as published`),
    db.raw('coalesce(max(attempts), 0)::int as "maxAttempts"'),
  )) as Array<{ total: number; published: number; maxAttempts: number }>;
  return row ?? { total: 0, published: 0, maxAttempts: 0 };
}

export async function deadLetterCount(db: Knex): Promise<number> {
  const [row] = (await db('dead_letter_queue').count({ n: '*' })) as Array<{ n: string | number }>;
  return Number(row?.n ?? 0);
}

/** The process's JSON log entries whose message starts with `message`, in order. */
export function logEntries(app: AppProcess, message: string): Array<Record<string, unknown>> {
  return app
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        return typeof entry.message === 'string' && entry.message.startsWith(message) ? [entry] : [];
      } catch {
        return [];
      }
    });
}

/**
 * retryInMs of each "batch failed" line the relay logged, in order, per claim loop: each loop
 * backs off on its own, so their pauses interleave in the log.
 */
export function loopBackoffs(relay: AppProcess): number[][] {
  const byLoop = new Map<unknown, number[]>();
  for (const entry of logEntries(relay, 'batch failed')) {
    if (typeof entry.retryInMs !== 'number') continue;
    const pauses = byLoop.get(entry.loop) ?? [];
    pauses.push(entry.retryInMs);
    byLoop.set(entry.loop, pauses);
  }
  return [...byLoop.values()];
}

/**
 * Checks each claim loop's "batch failed" pauses against its backoff: within a run of failed
 * batches, pause i lies between half and all of min(maxMs, initialMs * 2^i); a batch that
 * works ends the run, and the next failure starts over at initialMs. Returns the pauses that
 * fit neither, and the length of the longest run.
 */
export function backoffRuns(
  loops: readonly (readonly number[])[],
  initialMs: number,
  maxMs: number,
): { violations: string[]; longestRun: number } {
  const perLoop = loops.map((pauses) => loopBackoffRuns(pauses, initialMs, maxMs));
  return {
    violations: perLoop.flatMap((r, loop) => r.violations.map((v) => `loop ${loop}: ${v}`)),
    longestRun: Math.max(0, ...perLoop.map((r) => r.longestRun)),
  };
}

function loopBackoffRuns(
  backoffs: readonly number[],
  initialMs: number,
  maxMs: number,
): { violations: string[]; longestRun: number } {
  const fits = (pause: number, i: number): boolean => {
    const ceiling = Math.min(maxMs, initialMs * 2 ** i);
    return pause >= ceiling / 2 && pause <= ceiling;
  };
  const violations: string[] = [];
  let run = 0;
  let longestRun = 0;
  backoffs.forEach((pause, n) => {
    if (fits(pause, run)) run += 1;
    else if (fits(pause, 0)) run = 1;
    else violations.push(`pause ${n + 1} was ${pause} ms, after ${run} growing ones`);
    longestRun = Math.max(longestRun, run);
  });
  return { violations, longestRun };
}

/**
 * Outbox rows by status and attempts counted, e.g. ["pending 0 attempts", "published 1
 * attempt"] (the successful publish counts as an attempt); a failure recorded on any row is
 * listed too.
 */
export async function attemptsByStatus(db: Knex): Promise<string[]> {
  const rows = (await db('outbox')
    .select('status', 'attempts', db.raw('count(last_error)::int as errors'))
    .groupBy('status', 'attempts')
    .orderBy(['status', 'attempts'])) as Array<{ status: string; attempts: number; errors: number }>;
  return rows.map(
    (r) =>
      `${r.status} ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}${r.errors > 0 ? ` (${r.errors} with an error)` : ''}`,
  );
}

/** The value of one series on the relay's /metrics, by its labels. */
export async function metricValue(
  relay: AppProcess,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const text = await (await fetch(`${relay.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`${name}{`) && Object.entries(labels).every(([key, value]) => l.includes(`${key}="${value}"`)),
    );
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}
