import type { EncryptedPayload } from './payload-cipher';
import type { Executor } from './types';
import { jsonParam } from './types';

export interface NewEvent {
  id: string;
  source: string;
  type: string;
  schemaVersion: number | null;
  idempotencyKey: string | null;
  /** The payload, stored as jsonb; ignored when `encryptedPayload` is given. */
  payload: unknown;
  /** The payload encrypted at rest instead (PayloadCipher); then no clear payload is stored. */
  encryptedPayload?: EncryptedPayload;
  headers: Record<string, string>;
  receivedAt: Date;
}

/** Per input event: the id it is stored under, and whether this call stored it. */
export interface StoredEvent {
  id: string;
  inserted: boolean;
}

/**
 * Inserts events in one statement. An event whose (source, idempotency_key) is already
 * stored (a re-delivery, or a repeat within the batch) is not inserted again: its result
 * carries the stored id and `inserted: false`. Under concurrent duplicates the unique
 * constraint makes the second writer wait for the first and then see its row.
 */
export async function insertEvents(db: Executor, events: readonly NewEvent[]): Promise<StoredEvent[]> {
  const rows = events.map((e) => ({
    id: e.id,
    source: e.source,
    type: e.type,
    schema_version: e.schemaVersion,
    idempotency_key: e.idempotencyKey,
    // Wrapped, because jsonb_to_recordset turns a JSON null into SQL NULL, and a payload may
    // well be JSON null.
    payload: e.encryptedPayload ? null : { value: e.payload },
    payload_encrypted: e.encryptedPayload?.data.toString('base64') ?? null,
    encryption_key_id: e.encryptedPayload?.keyId ?? null,
    headers: e.headers,
    received_at: e.receivedAt.toISOString(),
  }));
  const inserted = await db.raw<{ rows: Array<{ id: string }> }>(
    `insert into events (id, source, type, schema_version, idempotency_key, payload, payload_encrypted,
                         encryption_key_id, headers, received_at)
     select id, source, type, schema_version, idempotency_key, payload -> 'value', decode(payload_encrypted, 'base64'),
            encryption_key_id, headers, received_at
     from jsonb_to_recordset(?::jsonb) as r(id uuid, source text, type text, schema_version int,
       idempotency_key text, payload jsonb, payload_encrypted text, encryption_key_id text, headers jsonb,
       received_at timestamptz)
     on conflict (source, idempotency_key) do nothing
     returning id`,
    [jsonParam(rows)],
  );
  const insertedIds = new Set(inserted.rows.map((r) => r.id));
  if (insertedIds.size === events.length) return events.map((e) => ({ id: e.id, inserted: true }));

  const missing = events.filter((e) => !insertedIds.has(e.id));
  const existing = await db.raw<{ rows: Array<{ id: string; source: string; idempotency_key: string }> }>(
    `select e.id, e.source, e.idempotency_key
     from events e
     join jsonb_to_recordset(?::jsonb) as k(source text, idempotency_key text)
       on e.source = k.source and e.idempotency_key = k.idempotency_key`,
    [jsonParam(missing.map((e) => ({ source: e.source, idempotency_key: e.idempotencyKey })))],
  );
  const storedId = new Map(existing.rows.map((r) => [`${r.source}\u0000${r.idempotency_key}`, r.id]));
  return events.map((e) => {
    if (insertedIds.has(e.id)) return { id: e.id, inserted: true };
    const id = storedId.get(`${e.source}\u0000${e.idempotencyKey ?? ''}`);
    if (!id) throw new Error(`event ${e.id} was neither inserted nor found by its idempotency key`);
    return { id, inserted: false };
  });
}
