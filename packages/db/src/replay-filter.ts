import type { Knex } from 'knex';
import { globToLike } from './dead-letter-filter';

/**
 * Which stored events a replay re-publishes. Every field given narrows the selection: lists
 * of globs match when any of their globs does (`*` matches any run of characters, as in
 * routing rules and API key scopes).
 */
export interface ReplayFilter {
  sources?: readonly string[];
  types?: readonly string[];
  /** Received at or after. */
  since?: Date;
  /** Received before. */
  until?: Date;
  ids?: readonly string[];
}

/**
 * The sources and types the key that asks may touch (its API key scopes): a replay never
 * takes an event outside them, whatever its filter says.
 */
export interface ReplayScope {
  sources: readonly string[];
  types: readonly string[];
}

/** Postgres text-array literal parameter: a JSON list cast in SQL keeps quoting out of our hands. */
function likeList(globs: readonly string[]): string {
  return JSON.stringify(globs.map(globToLike));
}

/**
 * The filter and the scope as a SQL condition over `events e`, with its bindings in order.
 * Shared by the dry-run count and the runner's batches, so a dry run counts exactly what the
 * replay takes. LIKE's default escape character is the backslash globToLike escapes with.
 */
export function replayCondition(filter: ReplayFilter, scope: ReplayScope): { sql: string; bindings: Knex.Value[] } {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  const add = (sql: string, ...values: Knex.Value[]): void => {
    parts.push(sql);
    bindings.push(...values);
  };
  const anyLike = (column: string, globs: readonly string[]): void => {
    // A `*` alone matches everything: leave it out, so the common unscoped case costs nothing.
    if (globs.includes('*')) return;
    add(`${column} like any (array(select jsonb_array_elements_text(?::jsonb)))`, likeList(globs));
  };
  if (filter.ids !== undefined) add('e.id = any (?::uuid[])', `{${filter.ids.join(',')}}`);
  if (filter.sources !== undefined) anyLike('e.source', filter.sources);
  if (filter.types !== undefined) anyLike('e.type', filter.types);
  if (filter.since !== undefined) add('e.received_at >= ?', filter.since.toISOString());
  if (filter.until !== undefined) add('e.received_at < ?', filter.until.toISOString());
  anyLike('e.source', scope.sources);
  anyLike('e.type', scope.types);
  return { sql: parts.length > 0 ? parts.join(' and ') : 'true', bindings };
}
