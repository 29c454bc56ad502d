import { randomUUID } from 'node:crypto';
import { isConnectionError, type ReplayBatchResult, type ReplayRecord } from '@orchestron/db';
import type { ReplayStore } from './store';

/** The two or three logger methods the runner uses (winston's Logger has them). */
export interface RunnerLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface ReplayRunnerOptions {
  store: ReplayStore;
  logger: RunnerLogger;
  /** Most events per batch (replay.batch_size). */
  batchSize: number;
  /** Replays run at once (replay.concurrency). */
  concurrency: number;
  /** How often an idle loop looks for queued replays (ms). */
  pollInterval: number;
  /** Lease of a claimed replay, renewed by every batch (ms). */
  lease: number;
  /**
   * A batch is enqueued only while fewer of the replay's rows than this wait for the relays
   * (replay.max_pending): the replay follows the relays' pace when they are slower than its
   * rate limit, and live events wait behind at most this many replayed rows.
   */
  maxPending: number;
  /** Consecutive failed batches after which a replay is marked failed. */
  maxFailures?: number;
  /** Called after each batch a runner completed, e.g. to count metrics. */
  onBatch?: (replay: ReplayRecord, result: ReplayBatchResult) => void;
  /** Milliseconds since some origin; injectable for tests. */
  now?: () => number;
}

/** How often a replay waiting for the relays to catch up looks again. */
const BACKLOG_POLL_MS = 100;

/** A sleep that wake() cuts short. */
class Pause {
  private wakeUp: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const wakeUp = (): void => done();
      this.wakeUp = wakeUp;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    }).then(() => {
      this.wakeUp = null;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}

/**
 * Runs replay jobs: `concurrency` loops, each claiming one replay at a time (by lease, so
 * admin replicas never run one replay at once) and walking it batch by batch, paced to its
 * rate limit (a batch takes at most a second's worth of events, and the next starts no
 * earlier than its events allow at that rate; waiting earns no burst) and to the relays (no batch while
 * `maxPending` of its rows still wait to be published). Each batch records its cursor in its own
 * transaction, so a replay resumes where it stopped after a restart or on another replica.
 * A cancel is seen at the next batch. Never throws out of its loops: a failed batch is
 * logged and retried with backoff, and after `maxFailures` in a row (not counting an
 * unreachable database) the replay is marked failed with the error.
 */
export class ReplayRunner {
  readonly id = `runner-${randomUUID()}`;
  private readonly pauses: Pause[] = [];
  private loops: Array<Promise<void>> = [];
  private stopping = false;
  private readonly now: () => number;
  private readonly maxFailures: number;

  constructor(private readonly options: ReplayRunnerOptions) {
    this.now = options.now ?? (() => performance.now());
    this.maxFailures = options.maxFailures ?? 5;
  }

  start(): void {
    if (this.loops.length > 0 || this.stopping) return;
    for (let i = 0; i < this.options.concurrency; i++) {
      const pause = new Pause();
      this.pauses.push(pause);
      this.loops.push(this.loop(pause));
    }
  }

  /** Looks for queued replays now (after one was created in this process). */
  wake(): void {
    for (const pause of this.pauses) pause.wake();
  }

  /**
   * Stops: no new replay is claimed, the batches in flight finish, and the replays held are
   * given back (they resume at once elsewhere). Resolves when done, or after `timeoutMs`
   * (the leases then run out and others take the replays over). Idempotent.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await Promise.race([Promise.all(this.loops), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async loop(pause: Pause): Promise<void> {
    while (!this.stopping) {
      let replay: ReplayRecord | null = null;
      try {
        replay = await this.options.store.claim(this.id, this.options.lease);
      } catch (error) {
        this.options.logger.warn('replay runner could not look for replays', { error: (error as Error).message });
      }
      if (replay) await this.run(replay, pause);
      else await pause.sleep(this.options.pollInterval);
    }
  }

  private async run(replay: ReplayRecord, pause: Pause): Promise<void> {
    const { store, logger, lease } = this.options;
    const context = { replay_id: replay.id, runner: this.id };
    logger.info('replay claimed', { ...context, cursor: replay.cursor, matched: replay.matched, total: replay.total });
    const take = Math.max(1, Math.min(this.options.batchSize, replay.rateLimit));
    // When the next batch may start: each batch's events push it on by their share of a
    // second, counted from when the batch started or the schedule, whichever is later, so
    // time spent waiting (for the relays, or after a failure) earns no burst afterwards.
    let nextAt = this.now();
    let cursor = replay.cursor;
    let failures = 0;
    let asked = take;
    while (!this.stopping) {
      let result: ReplayBatchResult;
      try {
        const backlog = await store.hold(replay.id, this.id, lease);
        if (!backlog.held) {
          logger.info('replay no longer held here (cancelled, or taken over)', context);
          return;
        }
        if (backlog.pending >= this.options.maxPending) {
          // The relays are behind: wait for them rather than queue live events behind ours.
          await pause.sleep(BACKLOG_POLL_MS);
          continue;
        }
        // No more than the room left, so that at most maxPending rows ever wait.
        asked = Math.min(take, this.options.maxPending - backlog.pending);
        nextAt = Math.max(nextAt, this.now());
        result = await store.runBatch(replay, this.id, cursor, asked, lease);
        failures = 0;
      } catch (error) {
        // An unreachable database is no fault of the replay: wait for it without giving up.
        if (!isConnectionError(error)) failures += 1;
        const message = (error as Error).message;
        logger.warn('replay batch failed', { ...context, error: message, failures });
        if (failures >= this.maxFailures) {
          await this.settle(replay, { status: 'failed', error: message });
          return;
        }
        await pause.sleep(Math.min(30_000, 250 * 2 ** Math.max(1, failures)));
        continue;
      }
      if (!result.held) {
        logger.info('replay no longer held here (cancelled, or taken over)', context);
        return;
      }
      this.options.onBatch?.(replay, result);
      cursor = result.cursor;
      nextAt += (result.matched * 1000) / replay.rateLimit;
      if (result.matched < asked) {
        await this.settle(replay, { status: 'completed' });
        return;
      }
      // Paced to the rate limit; a stop cuts the wait short.
      const wait = nextAt - this.now();
      if (wait > 0) await pause.sleep(wait);
    }
    try {
      await store.release(replay.id, this.id);
    } catch (error) {
      logger.warn('replay could not be given back; it resumes when its lease runs out', {
        ...context,
        error: (error as Error).message,
      });
    }
  }

  private async settle(
    replay: ReplayRecord,
    outcome: { status: 'completed' } | { status: 'failed'; error: string },
  ): Promise<void> {
    const context = { replay_id: replay.id, runner: this.id };
    try {
      const done = await this.options.store.finish(replay.id, this.id, outcome);
      if (!done) this.options.logger.info('replay no longer held here (cancelled, or taken over)', context);
      else if (outcome.status === 'completed') this.options.logger.info('replay completed', context);
      else this.options.logger.error('replay failed', { ...context, error: outcome.error });
    } catch (error) {
      this.options.logger.warn('replay could not be marked; it resumes when its lease runs out', {
        ...context,
        error: (error as Error).message,
      });
    }
  }
}
