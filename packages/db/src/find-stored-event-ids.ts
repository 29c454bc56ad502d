import type { Executor } from './types';
import { jsonParam } from './types';

/**
 * The ids under which events with these (source, idempotency key) pairs are stored, keyed by
 * `${source}\u0000${idempotencyKey}`. Run as a statement of its own so that its snapshot sees
 * rows committed by concurrent writers (see insertEventsWithOutbox).
 */
export async function findStoredEventIds(
  db: Executor,
  keys: ReadonlyArray<{ source: string; idempotencyKey: string | null }>,
): Promise<Map<string, string>> {
  const result = await db.raw<{ rows: Array<{ id: string; source: string; idempotency_key: string }> }>(
    `select e.id, e.source, e.idempotency_key
     from events e
     join jsonb_to_recordset(?::jsonb) as k(source text, idempotency_key text)
       on e.source = k.source and e.idempotency_key = k.idempotency_key`,
    [jsonParam(keys.map((k) => ({ source: k.source, idempotency_key: k.idempotencyKey })))],
  );
  return new Map(result.rows.map((r) => [`${r.source}\u0000${r.idempotency_key}`, r.id]));
}
