import type { Knex } from 'knex';
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
  return { sql: parts.length > 0 ? parts.join(' and ') : 'true', bindings };
}

/** `order.*` -> `order.%`: LIKE's own wildcards and the escape character are taken literally. */
export function globToLike(glob: string): string {
  return glob.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%');
}
