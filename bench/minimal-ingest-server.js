#!/usr/bin/env node
// The raw limit for bench/ingest.js: the least a Node process can do and still store an
// event the way ingest does. node:http, one pg pool, and per request one prepared statement
// that inserts the event, its outbox row and the NOTIFY (bench/minimal-insert.js). No auth, no
// rate limit, no schema validation, no express: whatever ingest adds on top of this is its own
// cost. Started by bench/ingest.js as a child process: PORT, DATABASE_URL, POOL_SIZE.
'use strict';

const http = require('node:http');
const { createPool, insertEvent, serve } = require('./minimal-insert');

const pool = createPool();

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
    insertEvent(pool, body, event).then(
      (id) => {
        res.writeHead(202, { 'content-type': 'application/json' }).end(`{"id":"${id}"}`);
      },
      (error) => {
        process.stderr.write(`${error.message}\n`);
        res.writeHead(500).end();
      },
    );
  });
});

serve(server, pool);
