import type { Executor } from './types';

export interface OutboxStats {
  pending: number;
  oldestPendingAgeSeconds: number;
  /**
   * How long the longest-waiting due row has been due: since it was written when it was never
   * tried, since its retry time when it was. Rows waiting out a retry backoff do not count, so
   * this grows only when the relay is not keeping up (down, stuck, too slow, broker down).
   */
  oldestDueAgeSeconds: number;
  /** Dead letters waiting for an operator (status `dead`). */
  dead: number;
}

/**
 * Backlog size and age, and the dead-letter queue size. One pass over the pending rows only
 * (the partial index of pending rows, as small as the backlog however large the table), so
 * it is cheap enough for a periodic refresh; not meant for every scrape.
 */
export async function outboxStats(db: Executor): Promise<OutboxStats> {
  const result = await db.raw<{
    rows: Array<{ pending: string; oldest_age: number | null; oldest_due_age: number | null; dead: string }>;
  }>(
    `select count(*) as pending,
            extract(epoch from now() - min(created_at))::float8 as oldest_age,
            extract(epoch from now() - min(case when attempts = 0 then created_at else next_attempt_at end)
                                         filter (where next_attempt_at <= now()))::float8 as oldest_due_age,
            (select count(*) from dead_letter_queue where status = 'dead') as dead
     from outbox
     where status = 'pending'`,
  );
  const row = result.rows[0];
  return {
    pending: Number(row?.pending ?? 0),
    oldestPendingAgeSeconds: Math.max(0, row?.oldest_age ?? 0),
    oldestDueAgeSeconds: Math.max(0, row?.oldest_due_age ?? 0),
    dead: Number(row?.dead ?? 0),
  };
}
