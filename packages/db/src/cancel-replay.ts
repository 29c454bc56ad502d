import { REPLAY_COLUMNS, toReplayRecord, type ReplayRecord, type ReplayRow } from './replay-record';
import type { Executor } from './types';

/**
 * Cancels a queued or running replay. A runner's batch holds the replay's row for its short
 * transaction, so this waits at most one batch; the runner sees the status at its next batch
 * and stops, and nothing is enqueued after this commits. Outbox rows already enqueued stay
 * and are published. Null when there is no such replay or it has already ended.
 */
export async function cancelReplay(db: Executor, id: string, cancelledBy: string): Promise<ReplayRecord | null> {
  const result = await db.raw<{ rows: ReplayRow[] }>(
    `update replays r
     set status = 'cancelled', cancelled_by = ?, finished_at = now(), claimed_by = null, lease_until = null
     where r.id = ? and r.status in ('queued', 'running')
     returning ${REPLAY_COLUMNS}`,
    [cancelledBy, id],
  );
  const row = result.rows[0];
  return row ? toReplayRecord(row) : null;
}
