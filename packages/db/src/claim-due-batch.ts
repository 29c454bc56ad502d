import { CLAIMED_COLUMNS, toClaimedRow, type ClaimedColumns, type ClaimedRow } from './claimed-row';
import type { Executor } from './types';

/**
 * Claims up to `limit` due pending rows for `brokers`, oldest due first, and locks them for
 * the caller's transaction. SKIP LOCKED lets any number of claim loops and replicas run this
 * at once without waiting on each other or claiming a row twice. Must run in a transaction
 * that lasts until the rows are marked: if the process dies, the locks go with it and the
 * rows are due again.
 */
export async function claimDueBatch(
  trx: Executor,
  options: { limit: number; brokers: readonly string[] },
): Promise<ClaimedRow[]> {
  const result = await trx.raw<{ rows: ClaimedColumns[] }>(
    `with due as (
       select id from outbox
       where status = 'pending' and next_attempt_at <= now()
         and broker in (select jsonb_array_elements_text(?::jsonb))
       order by next_attempt_at, id
       limit ?
       for update skip locked
     )
     select ${CLAIMED_COLUMNS}
     from due join outbox o on o.id = due.id join events e on e.id = o.event_id
     order by o.id`,
    [JSON.stringify(options.brokers), options.limit],
  );
  return result.rows.map(toClaimedRow);
}
