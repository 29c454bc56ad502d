// @ts-check
/**
 * events: what ingest accepted. outbox: one row per destination of each event, written in
 * the same transaction; relay publishes it. dead_letter_queue: what kept failing.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(`
    create table events (
      id uuid primary key,
      source text not null,
      type text not null,
      schema_version integer,
      idempotency_key text,
      payload jsonb not null,
      headers jsonb not null default '{}'::jsonb,
      received_at timestamptz not null default now(),
      constraint events_source_idempotency_key_unique unique (source, idempotency_key)
    )`);
  await knex.raw(`create index events_received_at_idx on events (received_at)`);

  await knex.raw(`create type outbox_status as enum ('pending', 'published', 'dead')`);
  // fillfactor below 100 leaves room on each page so the status updates of the relay can be
  // HOT updates (no index entry rewritten); the aggressive autovacuum keeps dead tuples of
  // this high-churn table from piling up between cleanup runs.
  await knex.raw(`
    create table outbox (
      id bigint generated always as identity primary key,
      event_id uuid not null references events (id) on delete cascade,
      broker text not null,
      destination text not null,
      routing_key text not null default '',
      partition_key text,
      status outbox_status not null default 'pending',
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_error text,
      first_attempt_at timestamptz,
      last_attempt_at timestamptz,
      created_at timestamptz not null default now(),
      published_at timestamptz
    ) with (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02)`);
  // Only due pending rows are ever claimed; this partial index stays as small as the backlog
  // however many published rows the table holds.
  await knex.raw(`create index outbox_due_idx on outbox (next_attempt_at, id) where status = 'pending'`);
  await knex.raw(`create index outbox_event_id_idx on outbox (event_id)`);
  await knex.raw(`create index outbox_published_at_idx on outbox (published_at) where status = 'published'`);

  await knex.raw(`create type dead_letter_status as enum ('dead', 'replayed', 'discarded')`);
  await knex.raw(`
    create table dead_letter_queue (
      id bigint generated always as identity primary key,
      outbox_id bigint not null,
      event_id uuid not null references events (id) on delete cascade,
      broker text not null,
      destination text not null,
      routing_key text not null default '',
      partition_key text,
      error text not null,
      attempts integer not null,
      first_attempt_at timestamptz,
      last_attempt_at timestamptz not null default now(),
      status dead_letter_status not null default 'dead',
      created_at timestamptz not null default now(),
      replayed_at timestamptz,
      replayed_outbox_id bigint,
      discarded_at timestamptz
    )`);
  await knex.raw(`create index dead_letter_queue_status_idx on dead_letter_queue (status, created_at)`);
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw(`drop table if exists dead_letter_queue`);
  await knex.raw(`drop type if exists dead_letter_status`);
  await knex.raw(`drop table if exists outbox`);
  await knex.raw(`drop type if exists outbox_status`);
  await knex.raw(`drop table if exists events`);
};
