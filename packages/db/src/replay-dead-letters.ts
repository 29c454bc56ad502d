import { deadLetterCondition, type DeadLetterFilter } from './dead-letter-filter';
import type { Executor } from './types';

/** A dead letter put back into the outbox, and the outbox row it went into. */
export interface ReplayedDeadLetter {
  id: number;
  eventId: string;
  broker: string;
  destination: string;
  routingKey: string;
  outboxId: number;
}

/**
 * Re-enqueues up to `limit` dead letters matching `filter`, oldest first: for each, a new
 * pending outbox row for the same event and destination (attempts 0, due now), and the
 * dead-letter row marked `replayed` with when and into which outbox row. One statement, so
 * both happen or neither.
 *
 * Only rows with status `dead` are taken, and they are locked (SKIP LOCKED) while this runs,
 * so a row is never replayed twice: a concurrent replay skips the rows this one holds, and
 * after commit they are no longer `dead`. The new outbox ids are drawn from the outbox's own
 * identity sequence first, which is what ties each dead letter to its outbox row.
 *
 * The caller NOTIFYs the relays (notifyOutbox) in the same transaction.
 */
export async function replayDeadLetters(
  trx: Executor,
  filter: Omit<DeadLetterFilter, 'status'>,
  limit: number,
): Promise<ReplayedDeadLetter[]> {
  const condition = deadLetterCondition({ ...filter, status: 'dead' });
  const result = await trx.raw<{
    rows: Array<{
      id: number;
      event_id: string;
      broker: string;
      destination: string;
      routing_key: string;
      outbox_id: number;
    }>;
  }>(
    `with locked as (
       select d.id
       from dead_letter_queue d join events e on e.id = d.event_id
       where ${condition.sql}
       order by d.id
       limit ?
       for update of d skip locked
     ), picked as materialized (
       -- Numbered apart from the locking select, so that only the rows taken draw an id.
       select id, nextval(pg_get_serial_sequence('outbox', 'id')) as outbox_id from locked
     ), enqueued as (
       insert into outbox (id, event_id, broker, destination, routing_key, partition_key)
       overriding system value
       select p.outbox_id, d.event_id, d.broker, d.destination, d.routing_key, d.partition_key
       from picked p join dead_letter_queue d on d.id = p.id
       order by p.outbox_id
       returning id
     ), replayed as (
       update dead_letter_queue d
       set status = 'replayed', replayed_at = now(), replayed_outbox_id = p.outbox_id
       from picked p
       where d.id = p.id
       returning d.id, d.event_id, d.broker, d.destination, d.routing_key, p.outbox_id
     )
     select * from replayed order by id`,
    [...condition.bindings, limit],
  );
  return result.rows.map((row) => ({
    id: row.id,
    eventId: row.event_id,
    broker: row.broker,
    destination: row.destination,
    routingKey: row.routing_key,
    outboxId: row.outbox_id,
  }));
}
