import type { Knex } from 'knex';
import type { Publisher } from '@orchestron/broker';
import { claimDueBatch, deadLetter, markPublished, scheduleRetries } from '@orchestron/db';
import type { Logger, RelayMetrics } from '@orchestron/observability';
import { settle } from './settle';
import { toMessage } from './to-message';

export interface BatchSettings {
  broker: string;
  batchSize: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
}

/**
 * One claim-publish-settle cycle in one transaction: claim due rows (locked, SKIP LOCKED),
 * publish them, then mark each published, scheduled for retry or dead-lettered, and commit.
 * If publishing throws (broker unreachable) the transaction rolls back: the rows are due
 * again at once and no attempt is counted. If the process dies, the same happens.
 */
export function batchProcessor(deps: {
  db: Knex;
  publisher: Publisher;
  logger: Logger;
  metrics: RelayMetrics;
  settings: BatchSettings;
}): () => Promise<number> {
  const { db, publisher, logger, metrics, settings } = deps;
  let batchCounter = 0;
  return () =>
    db.transaction(async (trx) => {
      const rows = await claimDueBatch(trx, { limit: settings.batchSize, brokers: [settings.broker] });
      if (rows.length === 0) return 0;
      const batchId = `${process.pid}-${++batchCounter}`;
      metrics.claimed.inc({ broker: settings.broker }, rows.length);

      const results = await publisher.publish(rows.map(toMessage));
      const outcome = settle(rows, results, settings.maxRetries);

      await markPublished(
        trx,
        outcome.published.map((r) => r.id),
      );
      await scheduleRetries(trx, outcome.retry, {
        baseDelayMs: settings.retryBaseDelayMs,
        maxDelayMs: settings.retryMaxDelayMs,
      });
      await deadLetter(trx, outcome.deadLetter);

      const now = Date.now();
      for (const row of outcome.published) {
        metrics.published.inc({ broker: settings.broker, destination: row.destination });
        metrics.deliveryLatency.observe({ broker: settings.broker }, (now - row.receivedAt.getTime()) / 1000);
      }
      const failed = outcome.retry.length + outcome.deadLetter.length;
      if (failed > 0) {
        metrics.failed.inc({ broker: settings.broker, reason: 'rejected' }, failed);
        for (const f of outcome.deadLetter) {
          const row = rows.find((r) => r.id === f.id);
          metrics.deadLettered.inc({ broker: settings.broker, destination: row?.destination ?? 'unknown' });
        }
        logger.warn('messages rejected by the broker', {
          batchId,
          retrying: outcome.retry.map((f) => f.id),
          deadLettered: outcome.deadLetter.map((f) => f.id),
          firstError: (outcome.retry[0] ?? outcome.deadLetter[0])?.error,
        });
      }
      logger.debug('batch settled', { batchId, claimed: rows.length, published: outcome.published.length, failed });
      return rows.length;
    });
}
