import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import { createDatabase, migrateLatest, type DatabaseSettings } from '@orchestron/db';

import { postgresUrl } from './services';

/**
 * The migrated database every test file's database is cloned from: one per test run (global
 * setup names it and hands the name to the workers), so test runs side by side on one server
 * never drop each other's template.
 */
export function templateDatabase(): string {
  return process.env.ORCHESTRON_TEST_TEMPLATE ?? 'orchestron_test_template';
}

function urlFor(database: string): string {
  const url = new URL(postgresUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

export function settingsFor(database: string, maxConnections = 10): DatabaseSettings {
  return {
    url: urlFor(database),
    host: '',
    port: 0,
    user: '',
    password: '',
    name: database,
    max_connections: maxConnections,
    ssl: false,
    connect_timeout: 5_000,
    statement_timeout: 0,
  };
}

async function withMaintenanceClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor('postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates this run's template database and runs every migration in it; called once per test run. */
export async function prepareTemplateDatabase(): Promise<void> {
  process.env.ORCHESTRON_TEST_TEMPLATE ??= `orchestron_test_template_${process.pid}`;
  const template = templateDatabase();
  await withMaintenanceClient(async (client) => {
    await client.query(`drop database if exists ${template} with (force)`);
    await client.query(`create database ${template}`);
  });
  const db = createDatabase(settingsFor(template, 1), 'orchestron-test-setup');
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
}

/** Drops this run's template (global teardown). */
export async function dropTemplateDatabase(): Promise<void> {
  await withMaintenanceClient((client) => client.query(`drop database if exists ${templateDatabase()} with (force)`));
}

export interface TestDatabase {
  readonly name: string;
  readonly settings: DatabaseSettings;
  readonly url: string;
  /** A knex pool on it; destroyed by drop(). */
  readonly db: Knex;
  /** Closes the pool and drops the database; fails the test if connections leaked. */
  drop(): Promise<void>;
}

/**
 * A fresh database for one test file, cloned from the migrated template (milliseconds, not a
 * migration run); with `empty`, one without any table (as before the first migration). Drop
 * it in afterAll.
 */
export async function createTestDatabase(label = 'test', options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `orchestron_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const template = options.empty ? 'template0' : templateDatabase();
  await withMaintenanceClient((client) => client.query(`create database ${name} template ${template}`));
  const settings = settingsFor(name);
  const db = createDatabase(settings, 'orchestron-test');
  return {
    name,
    settings,
    url: settings.url,
    db,
    async drop() {
      await db.destroy();
      await withMaintenanceClient(async (client) => {
        const open = await client.query<{ n: string }>(
          `select count(*) as n from pg_stat_activity where datname = $1 and application_name = 'orchestron-test'`,
          [name],
        );
        await client.query(`drop database if exists ${name} with (force)`);
        if (Number(open.rows[0]?.n ?? 0) > 0) {
          throw new Error(`test database ${name} still had ${open.rows[0]?.n} open test connection(s): a pool leaked`);
        }
      });
    },
  };
}
