import type { Knex } from 'knex';
import { outboxStats } from '@orchestron/db';
import type { RelayMetrics } from '@orchestron/observability';

/**
 * Refreshes the outbox depth and age gauges on a timer, so a Prometheus scrape never runs a
 * query. Failures leave the last values in place; the loops report database trouble.
 */
export function refreshBacklogGauges(db: Knex, metrics: RelayMetrics, everyMs: number): () => void {
  let running = false;
  const refresh = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const stats = await outboxStats(db);
      metrics.outboxPending.set(stats.pending);
      metrics.outboxOldestPendingAge.set(stats.oldestPendingAgeSeconds);
    } catch {
      // Keep the previous values.
    } finally {
      running = false;
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
