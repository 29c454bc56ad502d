import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
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
  /** PEM files for TLS (database.ssl_*); empty or absent: system CAs, no client certificate. */
  ssl_ca_file?: string;
  ssl_cert_file?: string;
  ssl_key_file?: string;
  /** Verify the server certificate (CA and host name); default true. */
  ssl_reject_unauthorized?: boolean;
  connect_timeout: number;
  statement_timeout: number;
}

// bigint ids (outbox, dead_letter_queue) come back as strings by default; they stay far
// below 2^53 in practice, and numbers are what callers compare and log.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** The TLS options of database.ssl_*, with the PEM files read now (each new pool reads them). */
export function tlsOptionsOf(settings: DatabaseSettings): ConnectionOptions {
  return {
    rejectUnauthorized: settings.ssl_reject_unauthorized ?? true,
    ...(settings.ssl_ca_file ? { ca: readFileSync(settings.ssl_ca_file, 'utf8') } : {}),
    ...(settings.ssl_cert_file ? { cert: readFileSync(settings.ssl_cert_file, 'utf8') } : {}),
    ...(settings.ssl_key_file ? { key: readFileSync(settings.ssl_key_file, 'utf8') } : {}),
  };
}

/**
 * With database.ssl the ssl_* settings decide TLS: pg would let `sslmode` & co. in the URL
 * replace them (and drop the CA), so those parameters are taken out of the URL.
 */
function withoutTlsParameters(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url; // not a URL pg would parse either; let pg report it
  }
  for (const name of ['ssl', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'uselibpqcompat']) {
    parsed.searchParams.delete(name);
  }
  return parsed.toString();
}

export function connectionConfig(settings: DatabaseSettings, applicationName: string): Knex.PgConnectionConfig {
  const common = {
    application_name: applicationName,
    connectionTimeoutMillis: settings.connect_timeout,
    statement_timeout: settings.statement_timeout || undefined,
    ssl: settings.ssl ? tlsOptionsOf(settings) : undefined,
  };
  if (settings.url) {
    return { connectionString: settings.ssl ? withoutTlsParameters(settings.url) : settings.url, ...common };
  }
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
/** The logger knex reports pool and connection trouble to. */
export interface DatabaseLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export function createDatabase(settings: DatabaseSettings, applicationName: string, logger?: DatabaseLogger): Knex {
  return knex({
    client: 'pg',
    connection: connectionConfig(settings, applicationName),
    pool: { min: 0, max: settings.max_connections },
    acquireConnectionTimeout: Math.max(settings.connect_timeout, 1_000),
    // Without this knex prints plain-text lines into the services' JSON logs.
    ...(logger
      ? {
          log: {
            warn: (message: unknown) => logger.warn('database', { detail: String(message) }),
            error: (message: unknown) => logger.error('database', { detail: String(message) }),
            deprecate: (message: unknown) => logger.warn('database deprecation', { detail: String(message) }),
            debug: () => undefined,
          },
        }
      : {}),
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
