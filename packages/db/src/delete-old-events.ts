import type { Executor } from './types';

/**
 * Deletes up to `limit` events received more than `olderThanMs` ago that are settled: none of
 * their outbox rows is pending, and none of their dead letters waits for an operator (status
 * `dead`). Their remaining outbox rows (published, dead) and their replayed or discarded
 * dead-letter rows go with them (on delete cascade). Returns how many events it deleted; call
 * again while it returns `limit`. SKIP LOCKED: safe to run from several replicas at once.
 */
export async function deleteOldEvents(db: Executor, options: { olderThanMs: number; limit: number }): Promise<number> {
  const result = await db.raw<{ rowCount: number }>(
    `delete from events
     where id in (
       select e.id from events e
       where e.received_at < now() - make_interval(secs => ?::float8 / 1000)
         and not exists (select 1 from outbox o where o.event_id = e.id and o.status = 'pending')
         and not exists (select 1 from dead_letter_queue d where d.event_id = e.id and d.status = 'dead')
       order by e.received_at
       limit ?
       for update of e skip locked
     )`,
    [options.olderThanMs, options.limit],
  );
  return result.rowCount;
}
