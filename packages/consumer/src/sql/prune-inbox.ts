import type { Queryable } from './queryable';

/**
 * Deletes up to `batchSize` inbox rows recorded before `before`, and returns how many. One short
 * statement per batch (SKIP LOCKED: replicas pruning at once never wait for each other).
 */
export async function pruneInbox(db: Queryable, before: Date, batchSize: number): Promise<number> {
  const result = await db.query(
    `delete from orchestron_inbox where ctid in (
       select ctid from orchestron_inbox where recorded_at < $1
       limit $2 for update skip locked)`,
    [before, batchSize],
  );
  return result.rowCount ?? 0;
}
