import type { Queryable } from './queryable';

/**
 * Deletes up to `batchSize` key positions not advanced since `before` (keys that went quiet),
 * and returns how many, in the way of pruneInbox.
 */
export async function pruneKeyPositions(db: Queryable, before: Date, batchSize: number): Promise<number> {
  const result = await db.query(
    `delete from orchestron_consumer_key_positions where ctid in (
       select ctid from orchestron_consumer_key_positions where updated_at < $1
       limit $2 for update skip locked)`,
    [before, batchSize],
  );
  return result.rowCount ?? 0;
}
