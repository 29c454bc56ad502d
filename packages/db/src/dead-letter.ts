import type { Executor } from './types';
import { jsonParam } from './types';
import type { FailedRow } from './schedule-retries';

/**
 * Moves rows that failed their last allowed attempt to the dead-letter queue: a
 * dead_letter_queue row with the error and the attempt history, and the outbox row marked
 * `dead` so it is never claimed again. One statement, so both happen or neither.
 */
export async function deadLetter(trx: Executor, failures: readonly FailedRow[]): Promise<void> {
  if (failures.length === 0) return;
  await trx.raw(
    `with f as (
       select * from jsonb_to_recordset(?::jsonb) as f(id bigint, error text)
     ), dead as (
       update outbox o
       set status = 'dead', attempts = o.attempts + 1, last_error = f.error,
           first_attempt_at = coalesce(o.first_attempt_at, now()), last_attempt_at = now()
       from f where o.id = f.id
       returning o.*
     )
     insert into dead_letter_queue (outbox_id, event_id, broker, destination, routing_key, partition_key,
                                    error, attempts, first_attempt_at, last_attempt_at)
     select id, event_id, broker, destination, routing_key, partition_key,
            last_error, attempts, first_attempt_at, last_attempt_at
     from dead order by id`,
    [jsonParam(failures.map((f) => ({ id: f.id, error: f.error })))],
  );
}
