// @ts-check
/**
 * The admin API (apps/admin).
 *
 * audit_log: every state-changing admin action (dead-letter replay and discard, key create,
 * revoke, rotate, and what later actions add), written in the transaction of the change, so
 * there is never a change without its entry nor an entry for a change that rolled back.
 * `actor` is the key's name (not a foreign key: the entry outlives the key), `target` what
 * the action was aimed at (ids, a filter, a key name), `result` what it did or why it was
 * refused.
 *
 * api_keys.previous_key_hash / previous_key_expires_at: a rotated key's old secret, valid
 * until then (docs/admin.md, "Key rotation"), so senders can move to the new one without a
 * gap. Both are new nullable columns without defaults: adding them rewrites nothing.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(`
    create table audit_log (
      id bigint generated always as identity primary key,
      at timestamptz not null default now(),
      actor text not null,
      action text not null,
      outcome text not null check (outcome in ('ok', 'refused')),
      target jsonb not null default '{}'::jsonb,
      result jsonb not null default '{}'::jsonb,
      request_id text
    )`);
  await knex.raw(`create index audit_log_action_idx on audit_log (action, id)`);
  await knex.raw(
    `alter table api_keys add column previous_key_hash text, add column previous_key_expires_at timestamptz`,
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw(`alter table api_keys drop column previous_key_hash, drop column previous_key_expires_at`);
  await knex.raw(`drop table if exists audit_log`);
};
