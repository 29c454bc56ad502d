import { readdirSync } from 'node:fs';
import type { Knex } from 'knex';
import { appliedMigrations } from './applied-migrations';
import { migrationsDirectory } from './migrate';

/** The migrations this build ships: the files of its migrations directory, in order. */
export function shippedMigrations(directory: string = migrationsDirectory()): string[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.js'))
    .sort();
}

export interface SchemaState {
  /** Every migration this build ships is applied (more, from a newer build, is fine). */
  current: boolean;
  /** The newest migration applied (its version, the timestamp before `_`); null when none. */
  at: string | null;
  /** The newest migration this build ships (its version). */
  needs: string | null;
  /** Shipped migrations not applied. */
  missing: string[];
  /** Why the schema is not current, for /ready and `migrate status --check`; null when it is. */
  reason: string | null;
}

/** A migration's version: the timestamp its file name starts with. */
const versionOf = (name: string): string => name.split('_')[0] ?? name;

/**
 * Compares what the database has applied with what this build ships. Pure, so both the
 * readiness check and the CLI say the same thing the same way.
 */
export function schemaState(applied: readonly string[] | null, shipped: readonly string[]): SchemaState {
  const done = new Set(applied ?? []);
  const missing = shipped.filter((name) => !done.has(name));
  const newestApplied = [...done].sort().at(-1);
  const at = newestApplied === undefined ? null : versionOf(newestApplied);
  const newestShipped = shipped.at(-1);
  const needs = newestShipped === undefined ? null : versionOf(newestShipped);
  if (missing.length === 0) return { current: true, at, needs, missing, reason: null };
  const where =
    applied === null
      ? 'database has no schema (knex_migrations is missing)'
      : at === null
        ? 'database has no migrations applied'
        : `database schema at ${at}`;
  // A gap below the newest applied one (say, a migration merged with an older timestamp).
  const gap = at !== null && needs !== null && at >= needs ? ` (not applied: ${missing.join(', ')})` : '';
  return {
    current: false,
    at,
    needs,
    missing,
    reason: `${where}${gap}, this build needs ${needs}: run \`orchestron migrate latest\``,
  };
}

/** The schema state of a database against the migrations this build ships. */
export async function checkSchema(db: Knex, directory?: string): Promise<SchemaState> {
  const shipped = shippedMigrations(directory);
  return schemaState(await appliedMigrations(db), shipped);
}

/**
 * A readiness check (`/ready` of ingest and relay): fails with the reason while the database
 * is behind this build's migrations or has no tables. Once the schema is current the answer
 * is cached (migrations only move forward while a build runs), so the check costs nothing
 * from then on; until then every probe looks again, and the pod turns ready by itself right
 * after `orchestron migrate latest`.
 */
export function schemaReadinessCheck(
  db: Knex,
  directory?: string,
): { name: string; check(): Promise<Record<string, unknown>> } {
  let cached: SchemaState | null = null;
  return {
    name: 'schema',
    async check() {
      const state = cached ?? (await checkSchema(db, directory));
      if (!state.current) throw new Error(state.reason ?? 'database schema is behind this build');
      cached = state;
      return { version: state.at, needs: state.needs };
    },
  };
}
