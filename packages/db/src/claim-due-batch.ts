import type { Executor } from './types';

/** An outbox row with what relay needs to publish it. */
export interface ClaimedRow {
  id: number;
  eventId: string;
  broker: string;
  destination: string;
  routingKey: string;
  partitionKey: string | null;
  attempts: number;
  firstAttemptAt: Date | null;
  type: string;
  source: string;
  /** The stored payload as JSON text: published as is, never parsed and re-serialised. */
  payload: string;
  headers: Record<string, string>;
  receivedAt: Date;
}

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
  const result = await trx.raw<{
    rows: Array<{
      id: number;
      event_id: string;
      broker: string;
      destination: string;
      routing_key: string;
      partition_key: string | null;
      attempts: number;
      first_attempt_at: Date | null;
      type: string;
      source: string;
      payload: string;
      headers: Record<string, string>;
      received_at: Date;
    }>;
  }>(
    `with due as (
       select id from outbox
       where status = 'pending' and next_attempt_at <= now()
         and broker in (select jsonb_array_elements_text(?::jsonb))
       order by next_attempt_at, id
       limit ?
       for update skip locked
     )
     select o.id, o.event_id, o.broker, o.destination, o.routing_key, o.partition_key, o.attempts,
            o.first_attempt_at, e.type, e.source, e.payload::text as payload, e.headers, e.received_at
     from due join outbox o on o.id = due.id join events e on e.id = o.event_id
     order by o.id`,
    [JSON.stringify(options.brokers), options.limit],
  );
  return result.rows.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    broker: r.broker,
    destination: r.destination,
    routingKey: r.routing_key,
    partitionKey: r.partition_key,
    attempts: r.attempts,
    firstAttemptAt: r.first_attempt_at,
    type: r.type,
    source: r.source,
    payload: r.payload,
    headers: r.headers,
    receivedAt: r.received_at,
  }));
}
