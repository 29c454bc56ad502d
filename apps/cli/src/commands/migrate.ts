import type { OrchestronConfig } from '@orchestron/config';
import {
  checkSchema,
  ensureDatabaseExists,
  migrateLatest,
  migrateRollback,
  migrationStatus,
  migrationsDirectory,
} from '@orchestron/db';
import { cliDatabase } from '../cli-database';
import type { Output } from '../output';
import { UsageError } from '../usage-error';

export const MIGRATE_USAGE = `usage: orchestron migrate [latest|rollback|status] [--check] [--json]

  latest            apply every pending migration (the default); creates the database when missing
  rollback          revert the last batch of migrations
  status            list applied and pending migrations
  status --check    change nothing; exit 1 while the database lacks a migration this build ships, 0 when current`;

/**
 * `orchestron migrate [latest|rollback|status]`: latest creates the database when missing.
 * `status --check` changes nothing and exits 1 while the database lacks any migration this
 * build ships (an init container waits on it), 0 when it has them all. Returns the exit code.
 */
export async function migrate(
  config: OrchestronConfig,
  action: string,
  out: Output,
  options: { check?: boolean } = {},
): Promise<number> {
  if (!['latest', 'rollback', 'status'].includes(action)) {
    throw new UsageError(`unknown migrate action "${action}"`);
  }
  if (options.check && action !== 'status') throw new UsageError('--check goes with `migrate status` only');
  if (options.check) return checkStatus(config, out);
  if (action === 'latest' && (await ensureDatabaseExists(config.database))) {
    out.info(
      `created database ${config.database.url ? new URL(config.database.url).pathname.slice(1) : config.database.name}`,
    );
  }
  const db = cliDatabase(config, out, 'orchestron-migrate');
  try {
    const directory = migrationsDirectory();
    if (action === 'latest') {
      const applied = await migrateLatest(db, directory);
      out.info(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'already up to date');
    } else if (action === 'rollback') {
      const reverted = await migrateRollback(db, directory);
      out.info(reverted.length ? `rolled back: ${reverted.join(', ')}` : 'nothing to roll back');
    } else {
      const status = await migrationStatus(db, directory);
      out.result(status, () =>
        [...status.applied.map((name) => `applied  ${name}`), ...status.pending.map((name) => `pending  ${name}`)].join(
          '\n',
        ),
      );
    }
  } finally {
    await db.destroy();
  }
  return 0;
}

/** `migrate status --check`: read-only (knex's own listing would create its table). */
async function checkStatus(config: OrchestronConfig, out: Output): Promise<number> {
  const db = cliDatabase(config, out, 'orchestron-migrate');
  try {
    const state = await checkSchema(db, migrationsDirectory());
    out.result(state, () => state.reason ?? `database schema at ${state.at}: current`);
    return state.current ? 0 : 1;
  } finally {
    await db.destroy();
  }
}
