import type { Executor } from './types';
import { jsonParam } from './types';

export interface FailedRow {
  id: number;
  error: string;
}

/**
 * Counts a failed attempt and makes each row due again after an exponential backoff with
 * jitter: base * 2^(attempts so far), capped at `maxDelayMs`, times a random factor in
 * [0.5, 1) so rows that failed together do not all come back together.
 */
export async function scheduleRetries(
  trx: Executor,
  failures: readonly FailedRow[],
  backoff: { baseDelayMs: number; maxDelayMs: number },
): Promise<void> {
  if (failures.length === 0) return;
  await trx.raw(
    `update outbox o
     set attempts = o.attempts + 1,
         last_error = f.error,
         first_attempt_at = coalesce(o.first_attempt_at, now()),
         last_attempt_at = now(),
         next_attempt_at = now() + make_interval(secs =>
           least(?::float8 * power(2, o.attempts), ?::float8) * (0.5 + random() * 0.5) / 1000)
     from jsonb_to_recordset(?::jsonb) as f(id bigint, error text)
     where o.id = f.id`,
    [backoff.baseDelayMs, backoff.maxDelayMs, jsonParam(failures.map((f) => ({ id: f.id, error: f.error })))],
  );
}
