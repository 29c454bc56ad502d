/** The two logger methods the loop uses. */
export interface LoopLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface ClaimLoopOptions {
  /** Claims and settles one batch; resolves with the number of rows it claimed. */
  processBatch: () => Promise<number>;
  batchSize: number;
  /**
   * Go again at once after any non-empty batch, not only after a full one. For ordered claims:
   * settling a key's head makes the key's next event claimable, and nothing NOTIFYs that.
   */
  repeatAfterAnyRows?: boolean;
  /** Polling fallback: how long to wait for a wakeup when there was nothing (more) to do. */
  pollIntervalMs: number;
  /** Pause after a failed batch: doubles per consecutive failure up to maxMs, with jitter. */
  backoff: { initialMs: number; maxMs: number };
  onError: (error: unknown, retryInMs: number) => void;
  random?: () => number;
}

/**
 * Runs `processBatch` until stopped. Knows no SQL and no broker: after a full batch it goes
 * again at once; after a partial or empty one it sleeps until `wake()` (a NOTIFY) or the
 * poll interval; after a failure it backs off, and wakeups do not cut that pause short, so
 * that a stream of NOTIFYs cannot hammer a broker that is down. `run()` never throws.
 */
export class ClaimLoop {
  private stopping = false;
  private wakePending = false;
  private interruptSleep: (() => void) | null = null;
  private inBackoff = false;
  private running: Promise<void> | null = null;
  private readonly random: () => number;

  constructor(private readonly options: ClaimLoopOptions) {
    this.random = options.random ?? Math.random;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Work may be waiting: skip the rest of an idle sleep (not a failure backoff). */
  wake(): void {
    this.wakePending = true;
    if (this.interruptSleep && !this.inBackoff) this.interruptSleep();
  }

  /** Stops claiming; resolves when the batch in flight (if any) is settled. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.interruptSleep?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let consecutiveFailures = 0;
    while (!this.stopping) {
      try {
        this.wakePending = false;
        const claimed = await this.options.processBatch();
        consecutiveFailures = 0;
        if (claimed >= this.options.batchSize || this.stopping) continue;
        if (claimed > 0 && this.options.repeatAfterAnyRows) continue;
        if (!this.wakePending) await this.sleep(this.options.pollIntervalMs, false);
      } catch (error) {
        consecutiveFailures++;
        const { initialMs, maxMs } = this.options.backoff;
        const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(consecutiveFailures - 1, 20));
        const delay = Math.round(ceiling * (0.5 + this.random() * 0.5));
        try {
          this.options.onError(error, delay);
        } catch {
          // A failing error hook must not end the loop.
        }
        await this.sleep(delay, true);
      }
    }
  }

  private sleep(ms: number, backoff: boolean): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.inBackoff = backoff;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.interruptSleep = null;
        this.inBackoff = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.interruptSleep = done;
    });
  }
}
