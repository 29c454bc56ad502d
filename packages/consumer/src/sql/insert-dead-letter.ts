import { attributesOf, type OrchestronEvent } from '../event';
import type { Queryable } from './queryable';

/** Stores an event whose handler kept failing, in the caller's transaction. */
export async function insertDeadLetter(
  tx: Queryable,
  consumer: string,
  event: OrchestronEvent,
  attempts: number,
  error: string,
): Promise<void> {
  await tx.query(
    `insert into orchestron_consumer_dead_letters
       (consumer, event_id, cloud_event_id, source, type, partition_key, attempts, error,
        origin, attributes, headers, content_type, payload)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      consumer,
      event.eventId,
      event.id,
      event.source,
      event.type,
      event.key,
      attempts,
      error,
      JSON.stringify(event.origin),
      JSON.stringify(attributesOf(event)),
      JSON.stringify(event.headers),
      event.datacontenttype,
      event.dataBytes,
    ],
  );
}
