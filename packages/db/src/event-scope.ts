import type { Knex } from 'knex';
import { globToLike } from './glob-to-like';

/**
 * What an API key may see: events whose source matches one of `sources` and whose type
 * matches one of `types` (globs, `*` any run of characters, as in ingest's check of writes).
 */
export interface EventScope {
  sources: readonly string[];
  types: readonly string[];
}

/** True when the scope hides nothing (`*` among both lists). */
export function isUnrestricted(scope: EventScope | undefined): boolean {
  return !scope || (scope.sources.includes('*') && scope.types.includes('*'));
}

/**
 * The scope as a SQL condition over the events table aliased `alias`: `like any` of the
 * globs turned into LIKE patterns (escaped with LIKE's default escape character, the
 * backslash), so the database filters before counting, paging or locking.
 */
export function scopeCondition(scope: EventScope | undefined, alias: string): { sql: string; bindings: Knex.Value[] } {
  if (isUnrestricted(scope)) return { sql: 'true', bindings: [] };
  const { sources, types } = scope as EventScope;
  return {
    sql: `${alias}.source like any(?::text[]) and ${alias}.type like any(?::text[])`,
    bindings: [textArray(sources.map(globToLike)), textArray(types.map(globToLike))],
  };
}

/** A Postgres text array literal, each element quoted. */
function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}
