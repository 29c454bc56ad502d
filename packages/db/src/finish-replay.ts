import type { Executor } from './types';

/**
 * Ends a running replay the runner holds: `completed` when every matching event was walked,
 * `failed` with the error. False when the runner no longer holds it (cancelled meanwhile, or
 * its lease ran out and another runner took it), in which case nothing changes.
 */
export async function finishReplay(
  db: Executor,
  id: string,
  runnerId: string,
  outcome: { status: 'completed' } | { status: 'failed'; error: string },
): Promise<boolean> {
  const result = await db.raw(
    `update replays
     set status = ?, error = ?, finished_at = now(), claimed_by = null, lease_until = null
     where id = ? and claimed_by = ? and status = 'running'`,
    [outcome.status, outcome.status === 'failed' ? outcome.error : null, id, runnerId],
  );
  return (result as { rowCount: number }).rowCount === 1;
}
