import type { Knex } from 'knex';
import { globToLike } from './glob-to-like';
import { scopeCondition, type EventScope } from './event-scope';
import type { Executor } from './types';

/**
 * Where an event stands, derived from its outbox and dead-letter rows: `dead` while one of
 * its dead letters waits for an operator, else `pending` while an outbox row waits to be
 * published, else `published` (every destination confirmed; also once retention has removed
 * the published outbox rows).
 */
export type EventStatus = 'pending' | 'published' | 'dead';

export interface EventFilter {
  /** Exact source. */
  source?: string;
  /** Type glob (`order.*`). */
  type?: string;
  /** Received at or after. */
  since?: Date;
  /** Received before. */
  until?: Date;
  status?: EventStatus;
  /** Only events this scope may see (an API key's sources and types). */
  scope?: EventScope;
}

export interface EventSummary {
  id: string;
  source: string;
  type: string;
  schemaVersion: number | null;
  idempotencyKey: string | null;
  receivedAt: Date;
  status: EventStatus;
}

export interface EventSummaryRow {
  id: string;
  source: string;
  type: string;
  schema_version: number | null;
  idempotency_key: string | null;
  received_at: Date;
  status: EventStatus;
}

/** The status of the event aliased `e`, as SQL (EventStatus). */
export const EVENT_STATUS_SQL = `case
    when exists (select 1 from dead_letter_queue d where d.event_id = e.id and d.status = 'dead') then 'dead'
    when exists (select 1 from outbox o where o.event_id = e.id and o.status = 'pending') then 'pending'
    else 'published' end`;

/**
 * Events matching `filter`, newest first (ids are UUIDv7, so id order is arrival order), at
 * most `limit`; `beforeId` pages on from the last event of the previous page (keyset
 * pagination: every page costs the same however deep).
 */
export async function listEvents(
  db: Executor,
  filter: EventFilter,
  options: { limit: number; beforeId?: string },
): Promise<EventSummary[]> {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  const add = (sql: string, ...values: Knex.Value[]): void => {
    parts.push(sql);
    bindings.push(...values);
  };
  if (filter.source !== undefined) add('e.source = ?', filter.source);
  if (filter.type !== undefined) add(`e.type like ? escape '\\'`, globToLike(filter.type));
  if (filter.since !== undefined) add('e.received_at >= ?', filter.since.toISOString());
  if (filter.until !== undefined) add('e.received_at < ?', filter.until.toISOString());
  if (options.beforeId !== undefined) add('e.id < ?::uuid', options.beforeId);
  const scope = scopeCondition(filter.scope, 'e');
  add(`(${scope.sql})`, ...scope.bindings);
  const statusCondition = filter.status !== undefined ? 'where s.status = ?' : '';
  if (filter.status !== undefined) bindings.push(filter.status);
  const result = await db.raw<{ rows: EventSummaryRow[] }>(
    `select * from (
       select e.id, e.source, e.type, e.schema_version, e.idempotency_key, e.received_at, ${EVENT_STATUS_SQL} as status
       from events e
       where ${parts.join(' and ')}
     ) s ${statusCondition}
     order by s.id desc
     limit ?`,
    [...bindings, options.limit],
  );
  return result.rows.map(toEventSummary);
}

/** An events row (with its computed status) as an EventSummary. */
export function toEventSummary(row: EventSummaryRow): EventSummary {
  return {
    id: row.id,
    source: row.source,
    type: row.type,
    schemaVersion: row.schema_version,
    idempotencyKey: row.idempotency_key,
    receivedAt: row.received_at,
    status: row.status,
  };
}
