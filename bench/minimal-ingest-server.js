#!/usr/bin/env node
// The raw limit for bench/ingest.js: the least a Node process can do and still store an
// event the way ingest does. node:http, one pg pool, and per request one prepared statement
// that inserts the event, its outbox row and the NOTIFY (one round trip, autocommit). No auth,
// no rate limit, no schema validation, no express: whatever ingest adds on top of this is its
// own cost. Started by bench/ingest.js as a child process: PORT, DATABASE_URL, POOL_SIZE.
'use strict';

const http = require('node:http');
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

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 20) });

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/events') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let event;
    try {
      event = JSON.parse(body);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const id = uuidv7();
    const headers = JSON.stringify({ 'content-type': 'application/json', 'request-id': id });
    pool.query({ ...INSERT, values: [id, String(event.type), body, headers] }).then(
      () => {
        res.writeHead(202, { 'content-type': 'application/json' }).end(`{"id":"${id}"}`);
      },
      (error) => {
        process.stderr.write(`${error.message}\n`);
        res.writeHead(500).end();
      },
    );
  });
});

server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stderr.write('listening\n'));
process.on('SIGTERM', () => {
  server.close();
  server.closeIdleConnections();
  void pool.end().then(() => process.exit(0));
});
