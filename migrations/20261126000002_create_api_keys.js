// @ts-check
/**
 * api_keys: who may send events. Only a SHA-256 hash of each key is stored (keys are 256-bit
 * random strings, so a fast hash is enough and lets ingest look a key up by its hash); the
 * key itself is shown once, at creation. Scopes are glob lists of sources and event types.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(`
    create table api_keys (
      id bigint generated always as identity primary key,
      name text not null unique,
      key_hash text not null unique,
      key_prefix text not null,
      roles text[] not null default '{ingest}',
      allowed_sources text[] not null default '{*}',
      allowed_types text[] not null default '{*}',
      created_at timestamptz not null default now(),
      revoked_at timestamptz,
      last_used_at timestamptz
    )`);
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw(`drop table if exists api_keys`);
};
