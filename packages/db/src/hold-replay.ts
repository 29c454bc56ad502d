import type { Executor } from './types';

/**
 * Renews the runner's lease on a running replay and counts the replay's outbox rows that
 * still wait for the relays (a partial index holds just those). The runner asks before each
 * batch and enqueues more only while few wait: the replay then goes no faster than the relays
 * publish, and live events never queue behind a backlog of replayed rows. `held` is false
 * when the runner no longer holds the replay (cancelled, or taken over).
 */
export async function holdReplay(
  db: Executor,
  id: string,
  runnerId: string,
  leaseMs: number,
): Promise<{ held: boolean; pending: number }> {
  const result = await db.raw<{ rows: Array<{ pending: number }> }>(
    `update replays r
     set lease_until = now() + ? * interval '1 millisecond'
     where r.id = ? and r.claimed_by = ? and r.status = 'running'
     returning (select count(*) from outbox o where o.replay_id = r.id and o.status = 'pending') as pending`,
    [leaseMs, id, runnerId],
  );
  const row = result.rows[0];
  return row ? { held: true, pending: Number(row.pending) } : { held: false, pending: 0 };
}
