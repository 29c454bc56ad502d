import knex, { type Knex } from 'knex';
import pg from 'pg';

export interface DatabaseSettings {
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  name: string;
  max_connections: number;
  ssl: boolean;
  connect_timeout: number;
  statement_timeout: number;
}

// bigint ids (outbox, dead_letter_queue) come back as strings by default; they stay far
// below 2^53 in practice, and numbers are what callers compare and log.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function connectionConfig(settings: DatabaseSettings, applicationName: string): Knex.PgConnectionConfig {
  const common = {
    application_name: applicationName,
    connectionTimeoutMillis: settings.connect_timeout,
    statement_timeout: settings.statement_timeout || undefined,
    ssl: settings.ssl ? { rejectUnauthorized: true } : undefined,
  };
  if (settings.url) return { connectionString: settings.url, ...common };
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.name,
    ...common,
  };
}

/** A knex instance on a pg pool of `max_connections`. */
export function createDatabase(settings: DatabaseSettings, applicationName: string): Knex {
  return knex({
    client: 'pg',
    connection: connectionConfig(settings, applicationName),
    pool: { min: 0, max: settings.max_connections },
    acquireConnectionTimeout: Math.max(settings.connect_timeout, 1_000),
  });
}

/** Resolves when the database answers a trivial query; for readiness probes. */
export async function ping(db: Knex): Promise<void> {
  await db.raw('select 1');
}

/** True for errors that mean "the database is unreachable", as opposed to a bad statement. */
export function isConnectionError(error: unknown): boolean {
  const err = error as { code?: string; name?: string; message?: string } | undefined;
  if (!err) return false;
  if (err.name === 'KnexTimeoutError') return true;
  const code = err.code ?? '';
  // 08xxx connection exceptions, 57P01-57P03 admin shutdown / crash / cannot connect now,
  // and the socket errors pg reports as node system errors.
  if (code.startsWith('08') || /^57P0[1-3]$/.test(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(err.message ?? '');
}
