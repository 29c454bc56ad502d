/** One kind of row the cleanup removes. */
export interface CleanupStep {
  /** Names the step in logs and metrics (the table it deletes from). */
  table: string;
  /** Deletes at most `limit` rows in one statement; resolves with how many it deleted. */
  deleteBatch: (limit: number) => Promise<number>;
}

/** The two logger methods the loop uses. */
export interface CleanupLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface CleanupLoopOptions {
  steps: readonly CleanupStep[];
  /** Rows per statement. */
  batchSize: number;
  /** Time between two passes. */
  intervalMs: number;
  /** Pause after a full batch before the next one, so that a large cleanup never hogs the database. */
  pauseMs: number;
  logger: CleanupLogger;
  onDeleted?: (table: string, count: number) => void;
}

/**
 * Removes what retention no longer keeps, in small batches. Every `intervalMs` it runs a
 * pass: each step deletes a batch, and another after `pauseMs` as long as the last one was
 * full. Knows no SQL; the steps do (with SKIP LOCKED, so several relay replicas can run their
 * loops at once without waiting on each other or deleting a row twice).
 *
 * A failing step is logged and the pass goes on with the next; the next pass tries again.
 * `stop()` ends it between two batches. `run()` never throws.
 */
export class CleanupLoop {
  private stopping = false;
  private interruptSleep: (() => void) | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly options: CleanupLoopOptions) {
    if (!(options.batchSize >= 1)) throw new RangeError('retention.batch_size must be at least 1');
    if (!(options.intervalMs > 0)) throw new RangeError('the cleanup interval must be positive');
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Stops after the batch in flight, if any. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.interruptSleep?.();
    await this.running;
  }

  /** One pass over every step; resolves with the rows deleted per table. */
  async runPass(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const step of this.options.steps) {
      if (this.stopping) break;
      let total = 0;
      try {
        for (;;) {
          const count = await step.deleteBatch(this.options.batchSize);
          total += count;
          if (count > 0) this.options.onDeleted?.(step.table, count);
          if (count < this.options.batchSize || this.stopping) break;
          await this.sleep(this.options.pauseMs);
        }
      } catch (error) {
        this.options.logger.warn('retention cleanup failed; trying again next pass', {
          table: step.table,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      deleted[step.table] = total;
    }
    return deleted;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      await this.sleep(this.options.intervalMs);
      if (this.stopping) break;
      const started = Date.now();
      const deleted = await this.runPass();
      if (Object.values(deleted).some((n) => n > 0)) {
        this.options.logger.info('retention cleanup deleted old rows', { deleted, ms: Date.now() - started });
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.interruptSleep = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.interruptSleep = done;
    });
  }
}
