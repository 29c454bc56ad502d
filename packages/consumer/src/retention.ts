import type { Pool } from 'pg';
import { sleep } from './backoff';
import { errorMessage, type ConsumerLogger } from './logger';
import type { ConsumerMetrics } from './metrics';
import { pruneInbox } from './sql/prune-inbox';
import { pruneKeyPositions } from './sql/prune-key-positions';

export interface RetentionOptions {
  /**
   * How long an event id stays in the inbox (ms). A copy arriving later than this is handled
   * again, so keep it longer than any redelivery or replay can come: longer than the broker
   * keeps messages and than Orchestron keeps events for replays (7 days by default). Default
   * 14 days; 0 keeps them forever.
   */
  readonly inboxMs?: number;
  /** How long the ordering guard remembers a key that has gone quiet (ms). Default 14 days; 0: forever. */
  readonly keyPositionsMs?: number;
  /** Time between passes (ms). Default 60 000; 0 turns the loop off. */
  readonly intervalMs?: number;
  /** Rows per delete statement; another batch follows at once while they are full. Default 1 000. */
  readonly batchSize?: number;
}

export const RETENTION_DEFAULTS = {
  inboxMs: 14 * 86_400_000,
  keyPositionsMs: 14 * 86_400_000,
  intervalMs: 60_000,
  batchSize: 1_000,
};

/**
 * Deletes expired inbox rows and key positions every interval, in small batches (each its own
 * short statement), so the tables stay the size of the retention window.
 */
export class RetentionLoop {
  private running: Promise<void> | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly consumer: string,
    private readonly options: RetentionOptions,
    private readonly metrics: ConsumerMetrics,
    private readonly logger: ConsumerLogger,
  ) {}

  start(stopping: AbortSignal): void {
    const interval = this.options.intervalMs ?? RETENTION_DEFAULTS.intervalMs;
    if (interval <= 0) return;
    this.running = (async () => {
      while (await sleep(interval, stopping)) await this.runOnce(stopping);
    })();
  }

  /** Resolves once a pass in progress has ended (after the signal given to start aborted). */
  async stopped(): Promise<void> {
    await this.running;
  }

  /** One pass over both tables; failures are logged and retried at the next pass. */
  async runOnce(stopping?: AbortSignal): Promise<void> {
    const now = Date.now();
    const batchSize = this.options.batchSize ?? RETENTION_DEFAULTS.batchSize;
    const passes: [string, number, typeof pruneInbox][] = [
      ['inbox', this.options.inboxMs ?? RETENTION_DEFAULTS.inboxMs, pruneInbox],
      ['key_positions', this.options.keyPositionsMs ?? RETENTION_DEFAULTS.keyPositionsMs, pruneKeyPositions],
    ];
    for (const [table, keepMs, prune] of passes) {
      if (keepMs <= 0) continue;
      try {
        let deleted: number;
        do {
          deleted = await prune(this.pool, new Date(now - keepMs), batchSize);
          this.metrics.inboxPruned.inc({ consumer: this.consumer, table }, deleted);
        } while (deleted === batchSize && !stopping?.aborted);
      } catch (error) {
        this.logger.warn('retention pass failed; retried at the next pass', {
          consumer: this.consumer,
          table,
          error: errorMessage(error),
        });
      }
    }
  }
}
