import type { Knex } from 'knex';
import { insertEvents, insertOutboxRows, notifyOutbox, uuidv7, type NewEvent, type StoredEvent } from '@orchestron/db';
import type { Destination } from '@orchestron/routing';

export interface EventToStore {
  source: string;
  type: string;
  /** Null for an event stored without schema validation (a source accepting unknown types). */
  schemaVersion: number | null;
  idempotencyKey: string | null;
  data: unknown;
  headers: Record<string, string>;
  destinations: Destination[];
}

/**
 * Writes the events and one outbox row per destination of each newly stored event in one
 * transaction, and notifies the relays on commit. Resolves only after the commit: the caller
 * may then answer 202. Re-delivered events (known idempotency key) get no new rows.
 */
export async function storeEvents(db: Knex, events: readonly EventToStore[]): Promise<StoredEvent[]> {
  const receivedAt = new Date();
  const rows: NewEvent[] = events.map((e) => ({
    id: uuidv7(receivedAt.getTime()),
    source: e.source,
    type: e.type,
    schemaVersion: e.schemaVersion,
    idempotencyKey: e.idempotencyKey,
    payload: e.data,
    headers: e.headers,
    receivedAt,
  }));
  return db.transaction(async (trx) => {
    const stored = await insertEvents(trx, rows);
    const outbox = stored.flatMap((s, i) =>
      s.inserted ? (events[i] as EventToStore).destinations.map((d) => ({ eventId: s.id, ...d })) : [],
    );
    await insertOutboxRows(trx, outbox);
    if (outbox.length > 0) await notifyOutbox(trx);
    return stored;
  });
}
