import type { Knex } from 'knex';
import { scopeCondition, type EventScope } from './event-scope';

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
 * The filter and the scope of the key that asked (a replay never takes an event outside
 * it, whatever its filter says) as a SQL condition over `events e`, with its bindings in
 * order. Shared by the dry-run count and the runner's batches, so a dry run counts exactly
 * what the replay takes. The filter's source and type globs select as a scope does.
 */
export function replayCondition(filter: ReplayFilter, scope: EventScope): { sql: string; bindings: Knex.Value[] } {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  const add = (condition: { sql: string; bindings: Knex.Value[] }): void => {
    parts.push(`(${condition.sql})`);
    bindings.push(...condition.bindings);
  };
  if (filter.ids !== undefined) add({ sql: 'e.id = any (?::uuid[])', bindings: [`{${filter.ids.join(',')}}`] });
  if (filter.since !== undefined) add({ sql: 'e.received_at >= ?', bindings: [filter.since.toISOString()] });
  if (filter.until !== undefined) add({ sql: 'e.received_at < ?', bindings: [filter.until.toISOString()] });
  add(scopeCondition({ sources: filter.sources ?? ['*'], types: filter.types ?? ['*'] }, 'e'));
  add(scopeCondition(scope, 'e'));
  return { sql: parts.join(' and '), bindings };
}
