import type { Knex } from 'knex';
import { outboxStats } from '@orchestron/db';
import type { RelayMetrics } from '@orchestron/observability';

/** A refresh more often than this would turn the gauges into a steady database load. */
export const MIN_STATS_INTERVAL_MS = 1_000;

/**
 * Refreshes the outbox depth and age gauges and the dead-letter queue size on a timer
 * (`outbox.stats_interval`), so a Prometheus scrape never runs a query. Failures leave the
 * last values in place; the loops report database trouble.
 */
export function refreshBacklogGauges(
  db: Knex,
  metrics: Pick<
    RelayMetrics,
    'outboxPending' | 'outboxOldestPendingAge' | 'outboxOldestDueAge' | 'deadLetterQueueSize'
  >,
  everyMs: number,
): () => void {
  const interval = Math.max(everyMs, MIN_STATS_INTERVAL_MS);
  let running = false;
  const refresh = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const stats = await outboxStats(db);
      metrics.outboxPending.set(stats.pending);
      metrics.outboxOldestPendingAge.set(stats.oldestPendingAgeSeconds);
      metrics.outboxOldestDueAge.set(stats.oldestDueAgeSeconds);
      metrics.deadLetterQueueSize.set(stats.dead);
    } catch {
      // Keep the previous values.
    } finally {
      running = false;
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), interval);
  timer.unref();
  return () => clearInterval(timer);
}
