import type { Knex } from 'knex';
import { MessageRejectedError, type PublishResult, type Publisher, type RejectionReason } from '@orchestron/broker';
import {
  claimDueBatch,
  deadLetter,
  markPublished,
  scheduleRetries,
  type ClaimedRow,
  type PayloadCipher,
} from '@orchestron/db';
import type { Logger, RelayMetrics } from '@orchestron/observability';
import type { ClaimBatch } from './claim-statement';
import { settle } from './settle';
import { publishRows } from './publish-rows';

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
  /** Decrypts payloads stored encrypted; null when no encryption keys are configured. */
  cipher: PayloadCipher | null;
  /** The claim statement (claimStatementFor: ordered or not); claimDueBatch by default. */
  claim?: ClaimBatch;
}): () => Promise<number> {
  const { db, publisher, logger, metrics, settings, cipher } = deps;
  const claim = deps.claim ?? claimDueBatch;
  let batchCounter = 0;
  return () =>
    db.transaction(async (trx) => {
      const rows = await claim(trx, { limit: settings.batchSize, brokers: [settings.broker] });
      if (rows.length === 0) return 0;
      const batchId = `${process.pid}-${++batchCounter}`;
      metrics.claimed.inc({ broker: settings.broker }, rows.length);

      // Every line about this batch carries its id; the event ids let an operator follow one
      // event from ingest (its request id) to the broker.
      const eventIdOf = (outboxId: number): string | undefined => rows.find((r) => r.id === outboxId)?.eventId;
      const results = await publishRows(publisher, rows, cipher).catch((error: unknown) => {
        // The loop logs the failure itself; this line ties it to the batch and its events.
        logger.debug('batch not published; rolling back, the rows stay pending', {
          batchId,
          eventIds: rows.map((r) => r.eventId),
          error: (error as Error).message,
        });
        throw error;
      });
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
        const reasons = rejectionReasons(rows, results);
        for (const { row, reason } of reasons) {
          metrics.rejected.inc({ broker: settings.broker, destination: row.destination, reason });
        }
        for (const f of outcome.deadLetter) {
          const row = rows.find((r) => r.id === f.id);
          metrics.deadLettered.inc({ broker: settings.broker, destination: row?.destination ?? 'unknown' });
        }
        logger.warn('messages rejected by the broker', {
          batchId,
          retrying: outcome.retry.map((f) => f.id),
          deadLettered: outcome.deadLetter.map((f) => f.id),
          retryingEventIds: outcome.retry.map((f) => eventIdOf(f.id)),
          deadLetteredEventIds: outcome.deadLetter.map((f) => eventIdOf(f.id)),
          reasons: countBy(reasons.map((r) => r.reason)),
          firstError: (outcome.retry[0] ?? outcome.deadLetter[0])?.error,
        });
      }
      logger.debug('batch settled', {
        batchId,
        claimed: rows.length,
        published: outcome.published.length,
        failed,
        eventIds: rows.map((r) => r.eventId),
      });
      return rows.length;
    });
}

/** Each failed row with why it failed (an adapter's error that is no MessageRejectedError: refused). */
function rejectionReasons(
  rows: readonly ClaimedRow[],
  results: readonly PublishResult[],
): Array<{ row: ClaimedRow; reason: RejectionReason }> {
  return rows.flatMap((row, i) => {
    const result = results[i];
    if (!result || result.ok) return [];
    return [{ row, reason: result.error instanceof MessageRejectedError ? result.error.reason : 'refused' }];
  });
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
