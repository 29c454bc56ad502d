import type { Knex } from 'knex';
import {
  insertEventsWithOutbox,
  type PayloadCipher,
  uuidv7,
  type NewEventWithOutbox,
  type StoredEvent,
} from '@orchestron/db';
import type { Destination } from '@orchestron/routing';

export interface EventToStore {
  source: string;
  type: string;
  /** Null for an event stored without schema validation (a source accepting unknown types). */
  schemaVersion: number | null;
  idempotencyKey: string | null;
  data: unknown;
  /** Where `data` is, unchanged, in the request body given to storeEvents (IncomingEvent.dataPath). */
  dataPath?: string[];
  headers: Record<string, string>;
  destinations: Destination[];
}

/**
 * Writes the events and one outbox row per destination of each newly stored event,
 * atomically and in one database round trip (a single statement in autocommit:
 * insertEventsWithOutbox). Resolves only after the commit: the caller may then answer 202 (and
 * notify the relays). Re-delivered events (known idempotency key) get no new rows. With an
 * active encryption key the payload is stored encrypted, never in clear. Given the request's
 * JSON `body`, an event with a `dataPath` has its payload stored from the body's text: parsed
 * by Postgres, never serialised again here.
 *
 * With `notify` the statement also NOTIFYs the relays at its commit if it stored any event
 * (`notified`; re-deliveries wake no one). Should Postgres refuse the NOTIFY (its notification
 * queue full, SQLSTATE 54000), the statement has failed as a whole, and the events are stored
 * again without it: a wakeup is a hint, the events are not.
 */
export async function storeEvents(
  db: Knex,
  events: readonly EventToStore[],
  cipher: PayloadCipher | null = null,
  body?: string,
  notify = false,
): Promise<{ stored: StoredEvent[]; notified: boolean }> {
  const receivedAt = new Date();
  const rows: NewEventWithOutbox[] = events.map((e) => {
    const id = uuidv7(receivedAt.getTime());
    return {
      id,
      source: e.source,
      type: e.type,
      schemaVersion: e.schemaVersion,
      idempotencyKey: e.idempotencyKey,
      payload: e.data,
      ...(e.dataPath ? { payloadPath: e.dataPath } : {}),
      ...(cipher?.encrypting
        ? { encryptedPayload: cipher.encrypt(id, Buffer.from(JSON.stringify(e.data), 'utf8')) }
        : {}),
      headers: e.headers,
      receivedAt,
      outbox: e.destinations,
    };
  });
  if (!notify) return { stored: await insertEventsWithOutbox(db, rows, body), notified: false };
  try {
    const stored = await insertEventsWithOutbox(db, rows, body, { notify: true });
    return { stored, notified: stored.some((s) => s.inserted) };
  } catch (error) {
    // 54000 is also Postgres's code for other limits (an index row too large, say): those fail
    // again without the NOTIFY, and that error is the caller's.
    if ((error as { code?: string }).code !== PROGRAM_LIMIT_EXCEEDED) throw error;
    return { stored: await insertEventsWithOutbox(db, rows, body), notified: false };
  }
}

/** SQLSTATE of pg_notify's "too many notifications in the NOTIFY queue". */
const PROGRAM_LIMIT_EXCEEDED = '54000';
