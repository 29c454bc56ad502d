import { REPLAY_COLUMNS, toReplayRecord, type ReplayRecord, type ReplayRow } from './replay-record';
import type { Executor } from './types';

/**
 * Claims the oldest unfinished replay no live runner holds: queued, or running under a lease
 * that ran out (its runner died or stopped). The claimant holds it until `leaseMs` from now;
 * each batch renews the lease. SKIP LOCKED lets any number of runners claim at once without
 * taking one job twice; the lease, not a held transaction, keeps it theirs between batches.
 * Null when there is nothing to run.
 */
export async function claimReplay(db: Executor, runnerId: string, leaseMs: number): Promise<ReplayRecord | null> {
  const result = await db.raw<{ rows: ReplayRow[] }>(
    `with next as (
       select id from replays
       where status in ('queued', 'running') and (lease_until is null or lease_until < now())
       order by created_at, id
       limit 1
       for update skip locked
     )
     update replays r
     set status = 'running', claimed_by = ?, lease_until = now() + ? * interval '1 millisecond',
         started_at = coalesce(r.started_at, now())
     from next
     where r.id = next.id
     returning ${REPLAY_COLUMNS}`,
    [runnerId, leaseMs],
  );
  const row = result.rows[0];
  return row ? toReplayRecord(row) : null;
}
