import type { Knex } from 'knex';

/** A connection or a transaction; statements join whatever the caller runs them in. */
export type Executor = Knex | Knex.Transaction;

/** The channel ingest NOTIFYs on commit and relay LISTENs on. */
export const OUTBOX_CHANNEL = 'orchestron_outbox';

/** A JSON text of a list: one bind parameter however many rows a statement writes. */
export function jsonParam(rows: unknown[]): string {
  return JSON.stringify(rows);
}

/** A Postgres array literal of integers ({1,2,3}); integers need no quoting. */
export function bigintArray(ids: readonly number[]): string {
  if (!ids.every((id) => Number.isSafeInteger(id))) throw new TypeError('ids must be integers');
  return `{${ids.join(',')}}`;
}
