import type { Knex } from 'knex';
import { scopeCondition, type EventScope } from './event-scope';
import { globToLike } from './glob-to-like';
import { bigintArray } from './types';

export type DeadLetterStatus = 'dead' | 'replayed' | 'discarded';

/**
 * Which dead-letter rows an operator means. Every field narrows the selection; an empty
 * filter selects every row (of the status, where a statement fixes one).
 */
export interface DeadLetterFilter {
  ids?: readonly number[];
  /** Exact topic or exchange. */
  destination?: string;
  /** Event type glob: `*` matches any run of characters (as in routing rules and API key scopes). */
  type?: string;
  /** Exact event source. */
  source?: string;
  /** Dead-lettered at or after. */
  since?: Date;
  /** Dead-lettered before. */
  until?: Date;
  /** Text the error contains, case-insensitively. */
  errorContains?: string;
  status?: DeadLetterStatus;
  /** Only dead letters of events this scope may see (an API key's sources and types). */
  scope?: EventScope;
}

/**
 * The filter as a SQL condition over `dead_letter_queue d join events e`, with its bindings
 * in order. Shared by the list, replay and discard statements so that a dry run selects
 * exactly what the real run would.
 */
export function deadLetterCondition(filter: DeadLetterFilter): { sql: string; bindings: Knex.Value[] } {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  const add = (sql: string, ...values: Knex.Value[]): void => {
    parts.push(sql);
    bindings.push(...values);
  };
  if (filter.ids !== undefined) add('d.id = any(?::bigint[])', bigintArray(filter.ids));
  if (filter.destination !== undefined) add('d.destination = ?', filter.destination);
  if (filter.type !== undefined) add(`e.type like ? escape '\\'`, globToLike(filter.type));
  if (filter.source !== undefined) add('e.source = ?', filter.source);
  if (filter.since !== undefined) add('d.created_at >= ?', filter.since.toISOString());
  if (filter.until !== undefined) add('d.created_at < ?', filter.until.toISOString());
  if (filter.errorContains !== undefined) add('strpos(lower(d.error), lower(?)) > 0', filter.errorContains);
  if (filter.status !== undefined) add('d.status = ?::dead_letter_status', filter.status);
  if (filter.scope !== undefined) {
    const scope = scopeCondition(filter.scope, 'e');
    add(`(${scope.sql})`, ...scope.bindings);
  }
  return { sql: parts.length > 0 ? parts.join(' and ') : 'true', bindings };
}

/**
 * True when the filter selects by more than its status and the caller's scope: a bulk
 * action without such a filter means "every dead letter" and must be asked for as such.
 */
export function narrowsSelection(filter: DeadLetterFilter): boolean {
  return Object.entries(filter).some(([key, value]) => key !== 'status' && key !== 'scope' && value !== undefined);
}
