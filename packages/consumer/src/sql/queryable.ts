import type { QueryResult, QueryResultRow } from 'pg';

/** What the SQL modules need: a pg Client, PoolClient or Pool. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}
