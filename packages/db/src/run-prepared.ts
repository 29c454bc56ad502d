import type { QueryResult, QueryResultRow } from 'pg';
import type { Executor } from './types';

/** A statement that Postgres parses and plans once per connection: a constant text, a stable name. */
export interface PreparedStatement {
  name: string;
  /** Parameters as $1, $2, ... (sent as they are: knex does not rewrite them). */
  text: string;
}

/** The part of knex's client this uses: its pool (or, for a transaction, its one connection). */
interface PooledClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<unknown>;
}

interface PgConnection {
  query<R extends QueryResultRow>(config: { name: string; text: string; values: unknown[] }): Promise<QueryResult<R>>;
}

/**
 * Runs a named prepared statement on a connection of the executor's pool, or on the
 * transaction's own connection, without knex's query builder and runner in between: for the
 * statements on ingest's per-request path, where their work per call cost as much as the
 * rest of the request's database handling (docs/benchmarks.md).
 */
export async function runPrepared<R extends QueryResultRow>(
  db: Executor,
  statement: PreparedStatement,
  values: unknown[],
): Promise<QueryResult<R>> {
  const client = db.client as PooledClient;
  const connection = await client.acquireConnection();
  try {
    return await connection.query<R>({ name: statement.name, text: statement.text, values });
  } finally {
    await client.releaseConnection(connection);
  }
}
