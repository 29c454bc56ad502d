import pg from 'pg';
import { connectionConfig, type DatabaseSettings } from './client';

/**
 * Creates the configured database when it does not exist yet, connecting to the server's
 * `postgres` maintenance database to do so. Returns true when it created it.
 */
export async function ensureDatabaseExists(settings: DatabaseSettings): Promise<boolean> {
  const target = connectionConfig(settings, 'orchestron-migrate');
  const databaseName = settings.url ? new URL(settings.url).pathname.slice(1) : settings.name;
  const maintenance = settings.url
    ? { ...target, connectionString: withDatabase(settings.url, 'postgres') }
    : { ...target, database: 'postgres' };
  const client = new pg.Client(maintenance as pg.ClientConfig);
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [databaseName]);
    if (found.rowCount) return false;
    try {
      await client.query(`create database ${pg.escapeIdentifier(databaseName)}`);
    } catch (error) {
      // Two migrators racing: the other one created it first.
      if ((error as { code?: string }).code !== '42P04') throw error;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
