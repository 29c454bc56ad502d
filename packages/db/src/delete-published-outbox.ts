import type { Executor } from './types';

/**
 * Deletes up to `limit` outbox rows published more than `olderThanMs` ago and returns how many
 * it deleted. Meant to be called again while it returns `limit`: small batches keep each
 * transaction short, its locks few and its WAL small. SKIP LOCKED lets several relay replicas
 * run it at once without waiting on each other. The candidates come from the partial index of
 * published rows, so finding them does not scan the backlog or the whole table.
 */
export async function deletePublishedOutbox(
  db: Executor,
  options: { olderThanMs: number; limit: number },
): Promise<number> {
  const result = await db.raw<{ rowCount: number }>(
    `delete from outbox
     where id in (
       select id from outbox
       where status = 'published' and published_at < now() - make_interval(secs => ?::float8 / 1000)
       order by published_at
       limit ?
       for update skip locked
     )`,
    [options.olderThanMs, options.limit],
  );
  return result.rowCount;
}
