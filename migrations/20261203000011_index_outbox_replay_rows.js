// @ts-check
/**
 * outbox_replay_rows_idx: one outbox row per replay, event and destination: the replay runner inserts with
 * `on conflict do nothing` against this index, so a batch that runs again (a runner that
 * died after its insert but before it could know it committed) enqueues nothing twice.
 * Partial: rows written by ingest (replay_id null) are not in it, so it costs ingest nothing
 * and holds only replayed rows.
 *
 * outbox_pending_replay_rows_idx: how many rows of a replay still wait for the relays, which
 * the runner asks before each batch (it enqueues more only while few wait, so that live
 * events never queue behind a replay's backlog). Holds only replayed rows while pending.
 */

// Built CONCURRENTLY, which cannot run in a transaction, so that migrating a live database
// does not block ingest's inserts while the index is built.
exports.config = { transaction: false };

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.raw(`
    create unique index concurrently if not exists outbox_replay_rows_idx
      on outbox (replay_id, event_id, broker, destination, routing_key)
      where replay_id is not null`);
  await knex.raw(`
    create index concurrently if not exists outbox_pending_replay_rows_idx
      on outbox (replay_id)
      where status = 'pending' and replay_id is not null`);
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw(`drop index concurrently if exists outbox_pending_replay_rows_idx`);
  await knex.raw(`drop index concurrently if exists outbox_replay_rows_idx`);
};
