// @ts-check
/**
 * Retention deletes events whose outbox rows are settled and that have no dead letter waiting
 * (status `dead`). Both the "no dead letter waiting" check and the cascade from a deleted event
 * to its dead_letter_queue rows look rows up by event_id; without this index each deleted event
 * would scan the whole dead-letter table.
 */

// Built CONCURRENTLY, which cannot run in a transaction, so that migrating a live database does
// not block the relays' dead-lettering while the index is built.
exports.config = { transaction: false };

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.raw(
    `create index concurrently if not exists dead_letter_queue_event_id_idx on dead_letter_queue (event_id)`,
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw(`drop index concurrently if exists dead_letter_queue_event_id_idx`);
};
