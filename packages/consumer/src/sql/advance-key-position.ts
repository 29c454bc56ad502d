import type { Queryable } from './queryable';

/**
 * Moves the key's position to this event id if it is newer, in the caller's transaction, and
 * returns the position before (null for a key not seen yet). Event ids are UUIDv7, which sort
 * as text in the order they were made; the position never goes backwards.
 */
export async function advanceKeyPosition(
  tx: Queryable,
  consumer: string,
  key: string,
  eventId: string,
): Promise<string | null> {
  const result = await tx.query<{ previous: string | null }>(
    `with previous as (
       select last_event_id from orchestron_consumer_key_positions
       where consumer = $1 and partition_key = $2
       for update
     ), advanced as (
       insert into orchestron_consumer_key_positions as p (consumer, partition_key, last_event_id)
       values ($1, $2, $3)
       on conflict (consumer, partition_key) do update
         set last_event_id = greatest(p.last_event_id, excluded.last_event_id), updated_at = now()
     )
     select (select last_event_id from previous) as previous`,
    [consumer, key, eventId],
  );
  return result.rows[0]?.previous ?? null;
}
