import { deadLetterCondition, type DeadLetterFilter, type DeadLetterStatus } from './dead-letter-filter';
import type { Executor } from './types';

/** A dead-letter row with the type and source of its event. */
export interface DeadLetterRecord {
  id: number;
  outboxId: number;
  eventId: string;
  type: string;
  source: string;
  broker: string;
  destination: string;
  routingKey: string;
  partitionKey: string | null;
  error: string;
  attempts: number;
  firstAttemptAt: Date | null;
  lastAttemptAt: Date;
  status: DeadLetterStatus;
  /** When it was dead-lettered. */
  createdAt: Date;
  replayedAt: Date | null;
  replayedOutboxId: number | null;
  discardedAt: Date | null;
}

/** With `includeEvent`: what was sent, to look at one dead letter closely. */
export interface DeadLetterDetail extends DeadLetterRecord {
  receivedAt: Date;
  headers: Record<string, string>;
  /** The stored payload as JSON text, as relay publishes it; null when it is stored encrypted. */
  payload: string | null;
}

interface Row {
  id: number;
  outbox_id: number;
  event_id: string;
  type: string;
  source: string;
  broker: string;
  destination: string;
  routing_key: string;
  partition_key: string | null;
  error: string;
  attempts: number;
  first_attempt_at: Date | null;
  last_attempt_at: Date;
  status: DeadLetterStatus;
  created_at: Date;
  replayed_at: Date | null;
  replayed_outbox_id: number | null;
  discarded_at: Date | null;
  received_at?: Date;
  headers?: Record<string, string>;
  payload?: string | null;
}

/**
 * Dead-letter rows matching `filter`, oldest first, at most `limit`; `afterId` pages on from
 * the last row of the previous page.
 */
export async function listDeadLetters(
  db: Executor,
  filter: DeadLetterFilter,
  options: { limit: number; afterId?: number; includeEvent: true },
): Promise<DeadLetterDetail[]>;
export async function listDeadLetters(
  db: Executor,
  filter: DeadLetterFilter,
  options: { limit: number; afterId?: number; includeEvent?: false },
): Promise<DeadLetterRecord[]>;
export async function listDeadLetters(
  db: Executor,
  filter: DeadLetterFilter,
  options: { limit: number; afterId?: number; includeEvent?: boolean },
): Promise<DeadLetterRecord[] | DeadLetterDetail[]> {
  const condition = deadLetterCondition(filter);
  const eventColumns = options.includeEvent ? ', e.received_at, e.headers, e.payload::text as payload' : '';
  const result = await db.raw<{ rows: Row[] }>(
    `select d.id, d.outbox_id, d.event_id, e.type, e.source, d.broker, d.destination, d.routing_key,
            d.partition_key, d.error, d.attempts, d.first_attempt_at, d.last_attempt_at, d.status,
            d.created_at, d.replayed_at, d.replayed_outbox_id, d.discarded_at${eventColumns}
     from dead_letter_queue d join events e on e.id = d.event_id
     where ${condition.sql} and d.id > ?
     order by d.id
     limit ?`,
    [...condition.bindings, options.afterId ?? 0, options.limit],
  );
  return result.rows.map((row) => {
    const record: DeadLetterRecord = {
      id: row.id,
      outboxId: row.outbox_id,
      eventId: row.event_id,
      type: row.type,
      source: row.source,
      broker: row.broker,
      destination: row.destination,
      routingKey: row.routing_key,
      partitionKey: row.partition_key,
      error: row.error,
      attempts: row.attempts,
      firstAttemptAt: row.first_attempt_at,
      lastAttemptAt: row.last_attempt_at,
      status: row.status,
      createdAt: row.created_at,
      replayedAt: row.replayed_at,
      replayedOutboxId: row.replayed_outbox_id,
      discardedAt: row.discarded_at,
    };
    if (!options.includeEvent) return record;
    return {
      ...record,
      receivedAt: row.received_at as Date,
      headers: row.headers ?? {},
      payload: row.payload ?? null,
    };
  });
}
