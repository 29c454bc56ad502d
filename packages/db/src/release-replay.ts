import type { Executor } from './types';

/**
 * Gives a running replay back (a runner stopping): it stays `running` with its cursor, and the
 * next runner to look claims it at once instead of waiting for the lease to run out.
 */
export async function releaseReplay(db: Executor, id: string, runnerId: string): Promise<void> {
  await db.raw(
    `update replays set claimed_by = null, lease_until = null
     where id = ? and claimed_by = ? and status = 'running'`,
    [id, runnerId],
  );
}
