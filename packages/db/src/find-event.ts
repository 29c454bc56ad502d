import { scopeCondition, type EventScope } from './event-scope';
import { EVENT_STATUS_SQL, toEventSummary, type EventSummary, type EventSummaryRow } from './list-events';
import type { EncryptedPayload } from './payload-cipher';
import type { Executor } from './types';

export interface EventDetail extends EventSummary {
  headers: Record<string, string>;
  /** The payload as JSON text; null when it is stored encrypted (see `encrypted`). */
  payload: string | null;
  encrypted: EncryptedPayload | null;
}

interface Row extends EventSummaryRow {
  headers: Record<string, string> | null;
  payload: string | null;
  payload_encrypted: Buffer | null;
  encryption_key_id: string | null;
}

/** One event by id, if it exists and `scope` may see it (else undefined: the same answer for both). */
export async function findEvent(db: Executor, id: string, scope?: EventScope): Promise<EventDetail | undefined> {
  const condition = scopeCondition(scope, 'e');
  const result = await db.raw<{ rows: Row[] }>(
    `select e.id, e.source, e.type, e.schema_version, e.idempotency_key, e.received_at, e.headers,
            e.payload::text as payload, e.payload_encrypted, e.encryption_key_id, ${EVENT_STATUS_SQL} as status
     from events e
     where e.id = ?::uuid and (${condition.sql})`,
    [id, ...condition.bindings],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    ...toEventSummary(row),
    headers: row.headers ?? {},
    payload: row.payload,
    encrypted:
      row.payload_encrypted && row.encryption_key_id
        ? { keyId: row.encryption_key_id, data: row.payload_encrypted }
        : null,
  };
}
