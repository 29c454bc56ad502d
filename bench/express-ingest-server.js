#!/usr/bin/env node
// What express itself costs, for bench/ingest.js: bench/minimal-ingest-server.js's insert
// behind an express app that reads the body as ingest does (express.raw) and answers with
// res.status().json(), with no middleware of ingest's (auth, rate limit, validation, metrics).
// Between this and the minimal server is the framework (express gives each request its own
// prototypes and runs its router); between this and ingest is ingest's own work. Started by
// bench/ingest.js as a child process: PORT, DATABASE_URL, POOL_SIZE.
'use strict';

const path = require('node:path');
const express = require(require.resolve('express', { paths: [path.join(__dirname, '..', 'apps/ingest')] }));
const http = require('node:http');
const { createPool, insertEvent, serve } = require('./minimal-insert');

const pool = createPool();
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.post('/events', express.raw({ type: () => true, limit: 1024 * 1024 }), async (req, res) => {
  const body = req.body.toString('utf8');
  let event;
  try {
    event = JSON.parse(body);
  } catch {
    res.status(400).end();
    return;
  }
  res.status(202).json({ id: await insertEvent(pool, body, event) });
});

serve(http.createServer(app), pool);
