// @ts-check
/**
 * Indexes for the ordered claim (outbox.ordering = partition_key, packages/db
 * claim-ordered-batch.ts), each partial so that it holds only the backlog (pending rows) or
 * only the unresolved dead letters, and stays small however many rows were published:
 * - outbox_pending_key_idx: is an earlier row of this key still pending? One probe per row;
 *   walked key by key (a loose index scan) it also yields every key's head.
 * - outbox_pending_unkeyed_idx: the oldest pending rows without a partition key, without
 *   scanning past the keyed rows waiting behind their heads.
 * - dead_letter_queue_dead_key_idx: does an earlier dead letter of this key still wait
 *   (dead_letter_policy = block)?
 * They cost an index entry per new outbox row and dead letter also where ordering is off.
 */

// Built CONCURRENTLY, which cannot run in a transaction, so that migrating a live database
// with a large outbox does not block ingest's inserts while the indexes are built.
exports.config = { transaction: false };

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.raw(`
    create index concurrently outbox_pending_key_idx
      on outbox (broker, destination, partition_key, id)
      where status = 'pending' and partition_key is not null`);
  await knex.raw(`
    create index concurrently outbox_pending_unkeyed_idx
      on outbox (next_attempt_at, id)
      where status = 'pending' and partition_key is null`);
  await knex.raw(`
    create index concurrently dead_letter_queue_dead_key_idx
      on dead_letter_queue (broker, destination, partition_key, outbox_id)
      where status = 'dead' and partition_key is not null`);
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw(`drop index concurrently if exists dead_letter_queue_dead_key_idx`);
  await knex.raw(`drop index concurrently if exists outbox_pending_unkeyed_idx`);
  await knex.raw(`drop index concurrently if exists outbox_pending_key_idx`);
};
