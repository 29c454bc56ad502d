import type { Knex } from 'knex';
import type { DeadLetterFilter } from './dead-letter-filter';
import { discardDeadLetters, type DiscardedDeadLetter } from './discard-dead-letters';
import { listDeadLetters, type DeadLetterRecord } from './list-dead-letters';
import { notifyOutbox } from './notify-outbox';
import { replayDeadLetters, type ReplayedDeadLetter } from './replay-dead-letters';

/** Rows per transaction of a bulk replay or discard: short transactions, few locks at a time. */
export const DEAD_LETTER_BATCH_SIZE = 500;

export interface BatchOptions<T> {
  /** At most this many rows in all. */
  limit: number;
  batchSize?: number;
  /**
   * Runs in each batch's transaction after its statement, with the rows it took (at least
   * one call, with no rows when nothing matched): where the admin API writes its audit entry,
   * so that a change and its record commit together.
   */
  inTransaction?: (trx: Knex.Transaction, rows: readonly T[]) => Promise<void>;
}

/**
 * Replays every dead letter that matches (up to `limit`), one transaction per batch, each
 * NOTIFYing the relays at its commit. What `orchestron dlq replay` and the admin API run.
 */
export function replayDeadLettersInBatches(
  db: Knex,
  filter: Omit<DeadLetterFilter, 'status'>,
  options: BatchOptions<ReplayedDeadLetter>,
): Promise<ReplayedDeadLetter[]> {
  return inBatches(db, options, async (trx, take) => {
    const rows = await replayDeadLetters(trx, filter, take);
    // Delivered at commit: the relays claim the new rows at once instead of at their next poll.
    if (rows.length > 0) await notifyOutbox(trx);
    return rows;
  });
}

/** Discards every dead letter that matches (up to `limit`), one transaction per batch. */
export function discardDeadLettersInBatches(
  db: Knex,
  filter: Omit<DeadLetterFilter, 'status'>,
  options: BatchOptions<DiscardedDeadLetter>,
): Promise<DiscardedDeadLetter[]> {
  return inBatches(db, options, (trx, take) => discardDeadLetters(trx, filter, take));
}

/** Every dead letter the filter selects (up to `limit`), read page by page: what a dry run shows. */
export async function listEveryDeadLetter(
  db: Knex,
  filter: DeadLetterFilter,
  limit: number,
  batchSize = DEAD_LETTER_BATCH_SIZE,
): Promise<DeadLetterRecord[]> {
  const rows: DeadLetterRecord[] = [];
  while (rows.length < limit) {
    const take = Math.min(batchSize, limit - rows.length);
    const page = await listDeadLetters(db, filter, { limit: take, afterId: rows.at(-1)?.id });
    rows.push(...page);
    if (page.length < take) break;
  }
  return rows;
}

/** Runs `batch` in a transaction each until it takes fewer rows than asked for or `limit` rows are done. */
async function inBatches<T>(
  db: Knex,
  options: BatchOptions<T>,
  batch: (trx: Knex.Transaction, take: number) => Promise<T[]>,
): Promise<T[]> {
  const done: T[] = [];
  const batchSize = options.batchSize ?? DEAD_LETTER_BATCH_SIZE;
  do {
    const take = Math.min(batchSize, options.limit - done.length);
    const rows = await db.transaction(async (trx) => {
      const taken = await batch(trx, take);
      await options.inTransaction?.(trx, taken);
      return taken;
    });
    done.push(...rows);
    if (rows.length < take) break;
  } while (done.length < options.limit);
  return done;
}
