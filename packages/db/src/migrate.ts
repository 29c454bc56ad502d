import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';

/**
 * Where the knex migrations live: ORCHESTRON_MIGRATIONS_DIR, else the repository's (or the
 * image's) `migrations/` folder, found by walking up from this module.
 */
export function migrationsDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ORCHESTRON_MIGRATIONS_DIR) return path.resolve(env.ORCHESTRON_MIGRATIONS_DIR);
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'migrations');
    if (existsSync(candidate) && !candidate.includes(`${path.sep}src${path.sep}`)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the migrations directory; set ORCHESTRON_MIGRATIONS_DIR');
}

function options(directory?: string): Knex.MigratorConfig {
  return { directory: directory ?? migrationsDirectory(), loadExtensions: ['.js'], tableName: 'knex_migrations' };
}

export async function migrateLatest(db: Knex, directory?: string): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(options(directory))) as [number, string[]];
  return applied;
}

export async function migrateRollback(db: Knex, directory?: string): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(options(directory))) as [number, string[]];
  return reverted;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

export async function migrationStatus(db: Knex, directory?: string): Promise<MigrationStatus> {
  const [completed, pending] = (await db.migrate.list(options(directory))) as [
    Array<{ name: string }>,
    Array<{ file: string }>,
  ];
  return { applied: completed.map((m) => m.name), pending: pending.map((m) => m.file) };
}
