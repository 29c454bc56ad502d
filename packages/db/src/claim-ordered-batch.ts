import { CLAIMED_COLUMNS, toClaimedRow, type ClaimedColumns, type ClaimedRow } from './claimed-row';
import { bigintArray, type Executor } from './types';

/**
 * What an unresolved dead letter does to the later events of its key: `skip` lets them go on,
 * `block` holds them until the dead letter is replayed or discarded.
 */
export type DeadLetterPolicy = 'skip' | 'block';

export interface OrderedClaimOptions {
  limit: number;
  brokers: readonly string[];
  deadLetterPolicy: DeadLetterPolicy;
  /** Due rows the first, cheap pass looks at (default 10 × limit; see below). */
  window?: number;
}

/**
 * Claims like `claimDueBatch`, but only the head of each key: a row with a partition key is
 * claimed only if no earlier row (lower id) of the same broker, destination and partition key
 * is still pending, so a key's events are published one after the other in outbox id order,
 * however many loops and replicas claim at once. Rows without a partition key are unordered.
 * With `deadLetterPolicy: 'block'`, a row whose key has an earlier dead letter still in the
 * queue (status `dead`: not replayed, not discarded) waits as well.
 *
 * Why it holds: an earlier row that another transaction has claimed is locked but still
 * `pending` (it becomes published or dead only when that transaction commits), so the next
 * row of its key is not claimable before then; a retry keeps it pending, so its key stays
 * blocked through the backoff. A batch therefore holds at most one row per key, and a
 * per-message rejection can never be followed by a later message of the same key getting
 * through in the same publish call.
 *
 * Two passes, because rows waiting behind their key's head may be most of the backlog:
 * 1. The oldest `window` due rows, each checked against the pending-key index. Cheap, and
 *    enough whenever heads are near the front (many keys with few events each).
 * 2. Only if that did not fill the batch: every key's head found by a loose index scan (one
 *    index probe per key with pending rows, however deep each key's backlog), plus unkeyed
 *    rows from their own index. So a claim never scans the blocked rows one by one.
 * Must run in a transaction that lasts until the rows are marked (as `claimDueBatch`).
 */
export async function claimOrderedBatch(trx: Executor, options: OrderedClaimOptions): Promise<ClaimedRow[]> {
  const brokers = JSON.stringify(options.brokers);
  const window = options.window ?? options.limit * 10;
  // With policy block: an earlier dead letter of the row's key is still in the queue.
  const waitsForDeadLetter =
    options.deadLetterPolicy === 'block'
      ? `exists (
           select 1 from dead_letter_queue d
           where d.status = 'dead' and d.partition_key is not null
             and d.broker = c.broker and d.destination = c.destination
             and d.partition_key = c.partition_key and d.outbox_id < c.id)`
      : 'false';
  const waitsForEarlierRow = `exists (
      select 1 from outbox earlier
      where earlier.status = 'pending' and earlier.partition_key is not null
        and earlier.broker = c.broker and earlier.destination = c.destination
        and earlier.partition_key = c.partition_key and earlier.id < c.id)`;

  const first = await trx.raw<{ rows: ClaimedColumns[] }>(
    `with due as (
       select c.id from outbox c
       where c.id in (
           select w.id from outbox w
           where w.status = 'pending' and w.next_attempt_at <= now()
             and w.broker in (select jsonb_array_elements_text(?::jsonb))
           order by w.next_attempt_at, w.id
           limit ?)
         and c.status = 'pending' and c.next_attempt_at <= now()
         and (c.partition_key is null or not (${waitsForEarlierRow} or ${waitsForDeadLetter}))
       order by c.next_attempt_at, c.id
       limit ?
       for update of c skip locked
     )
     select ${CLAIMED_COLUMNS}
     from due join outbox o on o.id = due.id join events e on e.id = o.event_id
     order by o.id`,
    [brokers, window, options.limit],
  );
  const rows = first.rows.map(toClaimedRow);
  if (rows.length >= options.limit) return rows;

  // A key's head is the first entry of that key in the pending-key index, so walking the
  // index from key to key yields every head. Heads are heads in this statement's snapshot:
  // one published meanwhile fails the status re-check of FOR UPDATE and is skipped, and its
  // successor waits for the next claim.
  const second = await trx.raw<{ rows: ClaimedColumns[] }>(
    `with recursive heads as (
       (select h.broker, h.destination, h.partition_key, h.id from outbox h
        where h.status = 'pending' and h.partition_key is not null
        order by h.broker, h.destination, h.partition_key, h.id
        limit 1)
       union all
       select n.broker, n.destination, n.partition_key, n.id
       from heads p cross join lateral (
         select h.broker, h.destination, h.partition_key, h.id from outbox h
         where h.status = 'pending' and h.partition_key is not null
           and (h.broker, h.destination, h.partition_key) > (p.broker, p.destination, p.partition_key)
         order by h.broker, h.destination, h.partition_key, h.id
         limit 1) n
     ), unkeyed as (
       -- The oldest unkeyed rows, enough of them to get past those other loops hold locked.
       select u.id from outbox u
       where u.status = 'pending' and u.partition_key is null and u.next_attempt_at <= now()
         and u.broker in (select jsonb_array_elements_text(?::jsonb))
       order by u.next_attempt_at, u.id
       limit ?
     ), due as (
       select c.id from outbox c
       where c.id in (select id from heads union all select id from unkeyed)
         and c.status = 'pending' and c.next_attempt_at <= now()
         and c.broker in (select jsonb_array_elements_text(?::jsonb))
         and c.id <> all(?::bigint[])
         and (c.partition_key is null or not ${waitsForDeadLetter})
       order by c.next_attempt_at, c.id
       limit ?
       for update of c skip locked
     )
     select ${CLAIMED_COLUMNS}
     from due join outbox o on o.id = due.id join events e on e.id = o.event_id
     order by o.id`,
    [brokers, window + options.limit, brokers, bigintArray(rows.map((r) => r.id)), options.limit - rows.length],
  );
  return [...rows, ...second.rows.map(toClaimedRow)].sort((a, b) => a.id - b.id);
}
