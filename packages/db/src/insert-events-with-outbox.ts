import { findStoredEventIds } from './find-stored-event-ids';
import type { NewEvent, StoredEvent } from './insert-events';
import type { NewOutboxRow } from './insert-outbox';
import { runPrepared, type PreparedStatement } from './run-prepared';
import { jsonParam, OUTBOX_CHANNEL, type Executor } from './types';

/** An event to store, with the outbox rows (its destinations) to write if it is new. */
export interface NewEventWithOutbox extends NewEvent {
  outbox: ReadonlyArray<Omit<NewOutboxRow, 'eventId'>>;
  /**
   * Where the payload is in the call's `document` (a JSON path, e.g. ['3', 'data']): stored as
   * Postgres reads it from the sender's own text, not serialised again from `payload`. Ignored
   * with `encryptedPayload`.
   */
  payloadPath?: readonly string[];
}

/**
 * A one-row subquery that NOTIFYs the relays when the boolean parameter is true and the
 * statement stored an event (a re-delivery wakes no one): the notification is delivered at the
 * statement's commit, so the commit that wrote the outbox rows wakes the relays itself, without
 * a transaction and round trip of its own (ingest asks for it at most once per few
 * milliseconds: transactions that NOTIFY commit one at a time).
 */
const WAKE_RELAYS_IF = (parameter: string) =>
  `select case when ${parameter}::boolean and exists (select 1 from inserted)
               then pg_notify('${OUTBOX_CHANNEL}', '') end`;

/**
 * A named prepared statement: each connection parses and plans it once instead of once per
 * request (planning cost as much as executing it for one event).
 */
const INSERT_EVENTS_WITH_OUTBOX: PreparedStatement = {
  name: 'orchestron_insert_events_with_outbox',
  text: `with input as (
    select *
    from rows from (jsonb_to_recordset($1::jsonb) as (id uuid, source text, type text, schema_version int,
      idempotency_key text, payload jsonb, payload_path text[], payload_encrypted text, encryption_key_id text,
      headers jsonb, received_at timestamptz, outbox jsonb)) with ordinality
      as r(id, source, type, schema_version, idempotency_key, payload, payload_path, payload_encrypted,
           encryption_key_id, headers, received_at, outbox, n)
  ), inserted as (
    insert into events (id, source, type, schema_version, idempotency_key, payload, payload_encrypted,
                        encryption_key_id, headers, received_at)
    -- $2 is typed jsonb by its cast, so Postgres parses the document once, at bind time.
    select id, source, type, schema_version, idempotency_key, coalesce($2::jsonb #> payload_path, payload -> 'value'),
           decode(payload_encrypted, 'base64'), encryption_key_id, headers, received_at
    from input
    order by n
    on conflict (source, idempotency_key) do nothing
    returning id, source, idempotency_key
  ), queued as (
    insert into outbox (event_id, broker, destination, routing_key, partition_key)
    select i.id, d.broker, d.destination, d.routing_key, d.partition_key
    from input i
    join inserted on inserted.id = i.id
    cross join lateral rows from (jsonb_to_recordset(i.outbox) as (broker text, destination text,
      routing_key text, partition_key text)) with ordinality as d(broker, destination, routing_key,
      partition_key, m)
    order by i.n, d.m
  )
  select coalesce(
           mine.id,
           repeat.id,
           -- A correlated lookup, not a join: it always probes the unique index, whatever the
           -- table's size was when the prepared statement's generic plan was made (a join
           -- planned against a new, empty events table scans the table for ever after).
           (select stored.id from events stored
            where stored.source = i.source and stored.idempotency_key = i.idempotency_key)
         ) as id,
         mine.id is not null as inserted
  from input i
  left join inserted mine on mine.id = i.id
  left join inserted repeat
    on mine.id is null and repeat.source = i.source and repeat.idempotency_key = i.idempotency_key
  cross join (${WAKE_RELAYS_IF('$3')}) as wake
  order by i.n`,
};

/**
 * The same for one event, with plain parameters: most requests carry one event, and this
 * saves Postgres unpacking a JSON list of one (and Node building it).
 */
const INSERT_ONE_EVENT_WITH_OUTBOX: PreparedStatement = {
  name: 'orchestron_insert_one_event_with_outbox',
  text: `with inserted as (
    insert into events (id, source, type, schema_version, idempotency_key, payload, payload_encrypted,
                        encryption_key_id, headers, received_at)
    values ($1, $2, $3, $4, $5, coalesce($6::jsonb #> $7::text[], $8::jsonb), $9, $10, $11::jsonb, $12)
    on conflict (source, idempotency_key) do nothing
    returning id
  ), queued as (
    insert into outbox (event_id, broker, destination, routing_key, partition_key)
    select inserted.id, d.broker, d.destination, d.routing_key, d.partition_key
    from inserted
    cross join unnest($13::text[], $14::text[], $15::text[], $16::text[]) with ordinality
      as d(broker, destination, routing_key, partition_key, m)
    order by d.m
  )
  select coalesce((select id from inserted),
                  (select id from events where source = $2 and idempotency_key = $5)) as id,
         exists (select 1 from inserted) as inserted
  from (${WAKE_RELAYS_IF('$17')}) as wake`,
};

/**
 * Stores events and one outbox row per destination of each newly stored one in ONE statement:
 * one round trip, atomic on its own (run it outside a transaction and it commits when it
 * returns). With `notify` the statement also NOTIFYs the relays if it stored any event,
 * delivered at its commit; not on every call, because transactions that NOTIFY commit one at a
 * time (a database-wide lock held through the WAL flush): ingest's OutboxNotifier decides which
 * calls carry it.
 * Postgres refuses a NOTIFY when its notification queue is full (SQLSTATE 54000, a listener
 * that stopped reading), and then the whole statement fails: the caller stores again without.
 *
 * An event whose (source, idempotency_key) is already stored (a re-delivery, or a repeat within
 * the batch) gets no row: its result carries the stored id and `inserted: false`. The statement
 * finds ids stored before it started and ids it stored itself; an id committed by a concurrent
 * writer while it waited on the unique index is invisible to its snapshot, so for those (rare:
 * concurrent duplicates) a second query with a fresh snapshot looks them up.
 */
export async function insertEventsWithOutbox(
  db: Executor,
  events: readonly NewEventWithOutbox[],
  /** The JSON text the events' `payloadPath`s point into (ingest: the request body). */
  document?: string,
  options: { notify?: boolean } = {},
): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  const [only] = events;
  const notify = options.notify ?? false;
  const result =
    events.length === 1 && only
      ? await runPrepared<StoredRow>(db, INSERT_ONE_EVENT_WITH_OUTBOX, [...oneEventParameters(only, document), notify])
      : await runPrepared<StoredRow>(db, INSERT_EVENTS_WITH_OUTBOX, [
          jsonParam(eventRows(events, document)),
          document ?? null,
          notify,
        ]);

  const unresolved = events.filter((_, i) => !result.rows[i]?.id);
  const committedMeanwhile = unresolved.length > 0 ? await findStoredEventIds(db, unresolved) : new Map();
  return events.map((e, i) => {
    const row = result.rows[i];
    const id = row?.id ?? committedMeanwhile.get(`${e.source}\u0000${e.idempotencyKey ?? ''}`);
    if (!id) throw new Error(`event ${e.id} was neither inserted nor found by its idempotency key`);
    return { id, inserted: row?.inserted ?? false };
  });
}

/** What both statements return per event, in input order. */
interface StoredRow {
  id: string | null;
  inserted: boolean;
}

/** Whether the event's payload is to be read from the document by its path (never when encrypted). */
function payloadFromDocument(e: NewEventWithOutbox, document: string | undefined): boolean {
  return !e.encryptedPayload && document !== undefined && e.payloadPath !== undefined;
}

/** The rows of INSERT_EVENTS_WITH_OUTBOX's JSON parameter. */
function eventRows(events: readonly NewEventWithOutbox[], document: string | undefined): unknown[] {
  return events.map((e) => {
    const fromDocument = payloadFromDocument(e, document);
    return {
      id: e.id,
      source: e.source,
      type: e.type,
      schema_version: e.schemaVersion,
      idempotency_key: e.idempotencyKey,
      // Wrapped, because jsonb_to_recordset turns a JSON null into SQL NULL, and a payload may
      // well be JSON null.
      payload: e.encryptedPayload || fromDocument ? null : { value: e.payload },
      payload_path: fromDocument ? e.payloadPath : null,
      payload_encrypted: e.encryptedPayload?.data.toString('base64') ?? null,
      encryption_key_id: e.encryptedPayload?.keyId ?? null,
      headers: e.headers,
      received_at: e.receivedAt.toISOString(),
      outbox: e.outbox.map((o) => ({
        broker: o.broker,
        destination: o.destination,
        routing_key: o.routingKey,
        partition_key: o.partitionKey,
      })),
    };
  });
}

/** The parameters of INSERT_ONE_EVENT_WITH_OUTBOX. */
function oneEventParameters(e: NewEventWithOutbox, document: string | undefined): unknown[] {
  const fromDocument = payloadFromDocument(e, document);
  return [
    e.id,
    e.source,
    e.type,
    e.schemaVersion,
    e.idempotencyKey,
    fromDocument ? document : null,
    fromDocument ? e.payloadPath : null,
    // JSON text, so that a JSON null payload is stored as JSON null, not as SQL NULL.
    e.encryptedPayload || fromDocument ? null : JSON.stringify(e.payload ?? null),
    e.encryptedPayload?.data ?? null,
    e.encryptedPayload?.keyId ?? null,
    JSON.stringify(e.headers),
    e.receivedAt,
    e.outbox.map((o) => o.broker),
    e.outbox.map((o) => o.destination),
    e.outbox.map((o) => o.routingKey),
    e.outbox.map((o) => o.partitionKey),
  ];
}
