import { deadLetterCondition, type DeadLetterFilter } from './dead-letter-filter';
import type { Executor } from './types';

/** A dead letter an operator gave up on. */
export interface DiscardedDeadLetter {
  id: number;
  eventId: string;
  destination: string;
}

/**
 * Marks up to `limit` dead letters matching `filter`, oldest first, `discarded` (with
 * `discarded_at`): they stay for the record but can no longer be replayed, and stop holding
 * their event back from retention. Only rows with status `dead` are taken, locked with SKIP
 * LOCKED so that a concurrent replay or discard never takes the same row.
 */
export async function discardDeadLetters(
  trx: Executor,
  filter: Omit<DeadLetterFilter, 'status'>,
  limit: number,
): Promise<DiscardedDeadLetter[]> {
  const condition = deadLetterCondition({ ...filter, status: 'dead' });
  const result = await trx.raw<{ rows: Array<{ id: number; event_id: string; destination: string }> }>(
    `with picked as (
       select d.id
       from dead_letter_queue d join events e on e.id = d.event_id
       where ${condition.sql}
       order by d.id
       limit ?
       for update of d skip locked
     )
     update dead_letter_queue d
     set status = 'discarded', discarded_at = now()
     from picked p
     where d.id = p.id
     returning d.id, d.event_id, d.destination`,
    [...condition.bindings, limit],
  );
  return result.rows
    .map((row) => ({ id: row.id, eventId: row.event_id, destination: row.destination }))
    .sort((a, b) => a.id - b.id);
}
