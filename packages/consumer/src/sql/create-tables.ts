import type { Queryable } from './queryable';

/**
 * The library's tables in the consumer's own database. Idempotent and additive (`if not
 * exists`), so it can run at every start or be copied into the service's own migrations.
 *
 * - `orchestron_inbox`: one row per (consumer, event id) handled or dead-lettered; the
 *   primary key is the deduplication. `recorded_at` drives retention.
 * - `orchestron_consumer_dead_letters`: events whose handler kept failing (dead letter
 *   `table` mode), with the error and everything needed to handle them again.
 * - `orchestron_consumer_key_positions`: per key, the newest event id handled (ordering guard).
 */
export const CREATE_TABLES_SQL = `
create table if not exists orchestron_inbox (
  consumer text not null,
  event_id text not null,
  source text not null,
  type text not null,
  outcome text not null default 'handled' check (outcome in ('handled', 'dead_lettered')),
  recorded_at timestamptz not null default now(),
  primary key (consumer, event_id)
);
create index if not exists orchestron_inbox_recorded_at_idx on orchestron_inbox (recorded_at);

create table if not exists orchestron_consumer_dead_letters (
  id bigint generated always as identity primary key,
  consumer text not null,
  event_id text not null,
  cloud_event_id text not null,
  source text not null,
  type text not null,
  partition_key text,
  attempts int not null,
  error text not null,
  origin jsonb not null,
  attributes jsonb not null,
  headers jsonb not null,
  content_type text,
  payload bytea not null,
  dead_lettered_at timestamptz not null default now()
);
create index if not exists orchestron_consumer_dead_letters_event_idx
  on orchestron_consumer_dead_letters (consumer, event_id);

create table if not exists orchestron_consumer_key_positions (
  consumer text not null,
  partition_key text not null,
  last_event_id text not null,
  updated_at timestamptz not null default now(),
  primary key (consumer, partition_key)
);
create index if not exists orchestron_consumer_key_positions_updated_at_idx
  on orchestron_consumer_key_positions (updated_at);
`;

/**
 * Creates the library's tables (see CREATE_TABLES_SQL). Takes an advisory lock so that several
 * replicas starting at once do not race on `create ... if not exists`.
 */
export async function createConsumerTables(db: Queryable): Promise<void> {
  await db.query(`
    do $$ begin
      perform pg_advisory_xact_lock(hashtext('orchestron_consumer_tables'));
      ${CREATE_TABLES_SQL}
    end $$`);
}
