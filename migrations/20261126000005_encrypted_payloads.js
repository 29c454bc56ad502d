// @ts-check
/**
 * Optional encryption at rest of stored payloads (AES-256-GCM). An encrypted event keeps its
 * payload in payload_encrypted (iv | tag | ciphertext) under encryption_key_id, and payload
 * is null; exactly one of the two is set.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(`alter table events alter column payload drop not null`);
  await knex.raw(`alter table events add column payload_encrypted bytea, add column encryption_key_id text`);
  await knex.raw(`
    alter table events add constraint events_payload_stored_once
      check ((payload is null) = (payload_encrypted is not null)
             and (payload_encrypted is null) = (encryption_key_id is null))`);
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw(`alter table events drop constraint events_payload_stored_once`);
  await knex.raw(`alter table events drop column payload_encrypted, drop column encryption_key_id`);
  await knex.raw(`alter table events alter column payload set not null`);
};
