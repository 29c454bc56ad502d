import type { Knex } from 'knex';
import type { OrchestronConfig } from '@orchestron/config';
import { deleteOldEvents, deletePublishedOutbox } from '@orchestron/db';
import type { RelayMetrics } from '@orchestron/observability';
import { CleanupLoop, type CleanupLogger, type CleanupStep } from './cleanup-loop';

/**
 * The cleanup loop for the configured retention, started; null when retention is off
 * (`retention.interval` 0, or both retentions 0). Published outbox rows go first, then old
 * settled events with what is left of their rows.
 */
export function startRetentionCleanup(
  db: Knex,
  retention: OrchestronConfig['retention'],
  metrics: Pick<RelayMetrics, 'retentionDeleted'>,
  logger: CleanupLogger,
): CleanupLoop | null {
  const steps: CleanupStep[] = [];
  if (retention.published_outbox > 0) {
    steps.push({
      table: 'outbox',
      deleteBatch: (limit) => deletePublishedOutbox(db, { olderThanMs: retention.published_outbox, limit }),
    });
  }
  if (retention.events > 0) {
    steps.push({
      table: 'events',
      deleteBatch: (limit) => deleteOldEvents(db, { olderThanMs: retention.events, limit }),
    });
  }
  if (steps.length === 0 || retention.interval === 0) return null;
  const loop = new CleanupLoop({
    steps,
    batchSize: retention.batch_size,
    intervalMs: retention.interval,
    pauseMs: retention.batch_pause,
    logger,
    onDeleted: (table, count) => metrics.retentionDeleted.inc({ table }, count),
  });
  loop.start();
  return loop;
}
