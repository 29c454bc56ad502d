// @ts-check
/**
 * replays: durable jobs that re-publish stored events (issue #16; docs/admin.md, Replays).
 * A job names the events (filter: source and type globs, a time range, ids), the scope of
 * the key that asked (a scoped key replays only events in its scope, also while the job
 * runs later), the target (null: each event's original routes; else one named broker and
 * topic/exchange), and a rate. A runner claims it by lease (claimed_by, lease_until), walks
 * the events in id order and records after each batch how far it got (cursor) and what it
 * did (matched, enqueued), in the batch's own transaction, so a restart resumes there.
 *
 * outbox.replay_id marks the rows a replay made: the relay publishes it as the replay marker,
 * and a unique index (the next migration) makes a repeated batch enqueue nothing twice.
 * There is no foreign key to replays: adding one would lock the outbox while it is checked,
 * and a replay row is history, not something an outbox row depends on.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(`
    create table replays (
      id uuid primary key,
      requested_by text not null,
      filter jsonb not null,
      scope jsonb not null,
      target_broker text,
      target_destination text,
      target_routing_key text,
      rate_limit integer not null check (rate_limit > 0),
      status text not null default 'queued'
        check (status in ('queued', 'running', 'completed', 'cancelled', 'failed')),
      total bigint not null,
      matched bigint not null default 0,
      enqueued bigint not null default 0,
      skipped bigint not null default 0,
      cursor uuid,
      claimed_by text,
      lease_until timestamptz,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz,
      cancelled_by text,
      error text,
      constraint replays_target_complete
        check ((target_broker is null) = (target_destination is null))
    )`);
  // The runners' claim looks only at unfinished jobs; the list pages newest first.
  await knex.raw(`create index replays_unfinished_idx on replays (created_at) where status in ('queued', 'running')`);
  await knex.raw(`create index replays_created_at_idx on replays (created_at desc, id desc)`);
  // A nullable column without a default is a catalogue change only (no table rewrite); the
  // lock timeout makes it give up rather than queue ingest and the relays behind it when a
  // long transaction holds the outbox.
  await knex.raw(`set local lock_timeout = '5s'`);
  await knex.raw(`alter table outbox add column replay_id uuid`);
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw(`alter table outbox drop column if exists replay_id`);
  await knex.raw(`drop table if exists replays`);
};
