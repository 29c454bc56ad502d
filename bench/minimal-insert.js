// What bench/minimal-ingest-server.js and bench/express-ingest-server.js share: the insert, one
// prepared statement storing the event, its outbox row and a NOTIFY (one round trip,
// autocommit), as ingest does, without anything else ingest does; and how they listen and stop.
'use strict';

const path = require('node:path');

const repo = path.join(__dirname, '..');
const pg = require(require.resolve('pg', { paths: [path.join(repo, 'packages/db')] }));
const { uuidv7 } = require(path.join(repo, 'packages/db/dist'));

const INSERT = {
  name: 'bench-insert-event',
  text: `with e as (
           insert into events (id, source, type, schema_version, payload, headers, received_at)
           values ($1, 'bench', $2, 1, $3::jsonb -> 'data', $4::jsonb, now())
           returning id
         ), o as (
           insert into outbox (event_id, broker, destination, routing_key)
           select id, 'rabbitmq', 'events', $2 from e
           returning 1
         )
         select pg_notify('orchestron_outbox', '') from (select count(*) from o) n`,
};

/** A pool of POOL_SIZE (default 20, as ingest's) connections to DATABASE_URL. */
function createPool() {
  return new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 20) });
}

/** Stores the event (`body`: its JSON text, `event`: parsed); resolves with its new id. */
async function insertEvent(pool, body, event) {
  const id = uuidv7();
  const headers = JSON.stringify({ 'content-type': 'application/json', 'request-id': id });
  await pool.query({ ...INSERT, values: [id, String(event.type), body, headers] });
  return id;
}

/**
 * Listens on PORT (loopback) with ingest's keep-alive timeout, tells the parent on stderr once
 * it listens, and on SIGTERM stops taking connections, closes the pool and exits.
 */
function serve(server, pool) {
  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stderr.write('listening\n'));
  process.on('SIGTERM', () => {
    server.close();
    server.closeIdleConnections();
    void pool.end().then(() => process.exit(0));
  });
}

module.exports = { createPool, insertEvent, serve };
