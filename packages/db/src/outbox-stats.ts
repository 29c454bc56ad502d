import type { Executor } from './types';

export interface OutboxStats {
  pending: number;
  oldestPendingAgeSeconds: number;
  dead: number;
}

/**
 * Backlog size and age. Reads only the partial index of pending rows (small however large
 * the table), so it is cheap enough for a periodic refresh; not meant for every scrape.
 */
export async function outboxStats(db: Executor): Promise<OutboxStats> {
  const result = await db.raw<{
    rows: Array<{ pending: string; oldest_age: number | null; dead: string }>;
  }>(
    `select (select count(*) from outbox where status = 'pending') as pending,
            (select extract(epoch from now() - min(created_at))::float8 from outbox where status = 'pending') as oldest_age,
            (select count(*) from dead_letter_queue where status = 'dead') as dead`,
  );
  const row = result.rows[0];
  return {
    pending: Number(row?.pending ?? 0),
    oldestPendingAgeSeconds: Math.max(0, row?.oldest_age ?? 0),
    dead: Number(row?.dead ?? 0),
  };
}
