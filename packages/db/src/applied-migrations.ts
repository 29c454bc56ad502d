import type { Executor } from './types';

/**
 * Names of the migrations applied to this database (knex's `knex_migrations` table), or null
 * when that table does not exist: nothing was ever migrated. Read-only, unlike knex's own
 * `migrate.list()`, which creates the table; a readiness probe must change nothing.
 */
export async function appliedMigrations(db: Executor): Promise<string[] | null> {
  try {
    const result = await db.raw<{ rows: Array<{ name: string }> }>(`select name from knex_migrations order by name`);
    return result.rows.map((row) => row.name);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return null; // undefined_table
    throw error;
  }
}
