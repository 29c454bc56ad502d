import { bigintArray, type Executor } from './types';

/** Marks claimed rows published, in one statement however many there are. */
export async function markPublished(trx: Executor, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await trx.raw(
    `update outbox
     set status = 'published', published_at = now(), attempts = attempts + 1,
         first_attempt_at = coalesce(first_attempt_at, now()), last_attempt_at = now(), last_error = null
     where id = any(?::bigint[])`,
    [bigintArray(ids)],
  );
}
