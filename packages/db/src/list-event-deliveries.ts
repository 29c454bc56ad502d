import type { DeadLetterStatus } from './dead-letter-filter';
import type { Executor } from './types';

/** One outbox row of an event (one try at one destination), with its dead letter if it has one. */
export interface DeliveryRecord {
  outboxId: number;
  broker: string;
  destination: string;
  routingKey: string;
  partitionKey: string | null;
  status: 'pending' | 'published' | 'dead';
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  firstAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date;
  publishedAt: Date | null;
  deadLetter: {
    id: number;
    status: DeadLetterStatus;
    error: string;
    createdAt: Date;
    replayedAt: Date | null;
    replayedOutboxId: number | null;
    discardedAt: Date | null;
  } | null;
}

interface Row {
  id: number;
  broker: string;
  destination: string;
  routing_key: string;
  partition_key: string | null;
  status: DeliveryRecord['status'];
  attempts: number;
  last_error: string | null;
  created_at: Date;
  first_attempt_at: Date | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date;
  published_at: Date | null;
  dl_id: number | null;
  dl_status: DeadLetterStatus | null;
  dl_error: string | null;
  dl_created_at: Date | null;
  dl_replayed_at: Date | null;
  dl_replayed_outbox_id: number | null;
  dl_discarded_at: Date | null;
}

/**
 * The outbox rows of one event, oldest first: one per destination, and one more per replay
 * of a dead letter. Published rows are gone after retention (retention.published_outbox).
 */
export async function listEventDeliveries(db: Executor, eventId: string): Promise<DeliveryRecord[]> {
  const result = await db.raw<{ rows: Row[] }>(
    `select o.id, o.broker, o.destination, o.routing_key, o.partition_key, o.status, o.attempts, o.last_error,
            o.created_at, o.first_attempt_at, o.last_attempt_at, o.next_attempt_at, o.published_at,
            d.id as dl_id, d.status as dl_status, d.error as dl_error, d.created_at as dl_created_at,
            d.replayed_at as dl_replayed_at, d.replayed_outbox_id as dl_replayed_outbox_id,
            d.discarded_at as dl_discarded_at
     from outbox o left join dead_letter_queue d on d.outbox_id = o.id
     where o.event_id = ?::uuid
     order by o.id`,
    [eventId],
  );
  return result.rows.map((row) => ({
    outboxId: row.id,
    broker: row.broker,
    destination: row.destination,
    routingKey: row.routing_key,
    partitionKey: row.partition_key,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at,
    firstAttemptAt: row.first_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    publishedAt: row.published_at,
    deadLetter:
      row.dl_id === null
        ? null
        : {
            id: row.dl_id,
            status: row.dl_status as DeadLetterStatus,
            error: row.dl_error as string,
            createdAt: row.dl_created_at as Date,
            replayedAt: row.dl_replayed_at,
            replayedOutboxId: row.dl_replayed_outbox_id,
            discardedAt: row.dl_discarded_at,
          },
  }));
}
