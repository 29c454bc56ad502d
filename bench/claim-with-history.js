#!/usr/bin/env node
// Does the claim stay cheap when the outbox holds millions of published rows?
//
// Fills a scratch database with a pending backlog, times the relay's real claim statement
// (packages/db claimDueBatch: wall time over N runs, and EXPLAIN ANALYZE), then adds
// HISTORY_ROWS published rows (INSERT ... SELECT generate_series, in chunks) and times it
// again; then without the partial index, to show what the index buys; then right after a
// burst of publishing that autovacuum has not cleaned up yet, and after VACUUM. Also times
// the backlog gauges' query (outboxStats) and one retention batch.
//
// Run by hand, after a build (`npx tsc -b`), against a loopback Postgres only:
//   node bench/claim-with-history.js
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres HISTORY_ROWS=5000000 \
//     BACKLOG_ROWS=10000 RUNS=30 node bench/claim-with-history.js [--keep]
// Bounded: a fixed number of rows and runs; it creates and (unless --keep) drops its own
// database, orchestron_bench_claim. Takes a few minutes and about 3 GB of disk for 5 million rows.
'use strict';

const { SERVER_URL, admin, db: dbPackage, machine, median, pg, requireLoopback, urlOf } = require('./support');

const { claimDueBatch, createDatabase, deletePublishedOutbox, migrateLatest, outboxStats, uuidv7 } = dbPackage;

const DATABASE = 'orchestron_bench_claim';
const HISTORY_ROWS = Number(process.env.HISTORY_ROWS ?? 5_000_000);
const BACKLOG_ROWS = Number(process.env.BACKLOG_ROWS ?? 10_000);
const CHURN_ROWS = Number(process.env.CHURN_ROWS ?? 200_000);
const RUNS = Number(process.env.RUNS ?? 30);
const BATCH = Number(process.env.BATCH ?? 100);
const CHUNK = 500_000;
const KEEP = process.argv.includes('--keep');

requireLoopback();

const ms = (n) => `${n.toFixed(2)} ms`;

async function timed(label, work) {
  const started = process.hrtime.bigint();
  const result = await work();
  console.error(`  ${label}: ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
  return result;
}

async function main() {
  console.error(
    `database ${DATABASE} on ${new URL(SERVER_URL).hostname}: history ${HISTORY_ROWS}, backlog ${BACKLOG_ROWS}, ${RUNS} runs`,
  );
  await admin(`drop database if exists ${DATABASE} with (force)`);
  await admin(`create database ${DATABASE}`);
  const settings = {
    url: urlOf(DATABASE),
    max_connections: 2,
    connect_timeout: 5_000,
    statement_timeout: 0,
    ssl: false,
  };
  const db = createDatabase(settings, 'orchestron-bench');
  // The claim statement exactly as relay sends it, for EXPLAIN.
  let lastClaim = null;
  db.on('query', (query) => {
    if (/for update skip locked/.test(query.sql)) lastClaim = { sql: query.sql, bindings: query.bindings };
  });
  const explainer = new pg.Client({ connectionString: settings.url });
  const results = { machine: machine(), settings: { HISTORY_ROWS, BACKLOG_ROWS, CHURN_ROWS, RUNS, BATCH }, phases: [] };
  try {
    await migrateLatest(db);
    await explainer.connect();
    results.machine.postgres = (await db.raw('show server_version')).rows[0].server_version;

    await timed(`backlog of ${BACKLOG_ROWS} pending rows`, () => insertBacklog(db));
    await db.raw('vacuum analyze outbox');
    await db.raw('vacuum analyze events');
    results.phases.push(await measure('backlog only', db, explainer, () => lastClaim));

    await timed(`history of ${HISTORY_ROWS} published rows`, () => insertHistory(db));
    await timed('vacuum analyze', async () => {
      await db.raw('vacuum analyze outbox');
      await db.raw('vacuum analyze events');
    });
    results.phases.push(await measure(`backlog + ${HISTORY_ROWS} published`, db, explainer, () => lastClaim));
    results.retentionBatch = await retentionBatch(db);

    // What the partial index buys: the same claim with only a full index on the columns.
    await db.raw('drop index outbox_due_idx');
    await db.raw('create index outbox_due_full_idx on outbox (next_attempt_at, id)');
    await db.raw('analyze outbox');
    results.phases.push(
      await measure(`backlog + history, full index instead of partial`, db, explainer, () => lastClaim, 5),
    );
    await db.raw('drop index outbox_due_full_idx');
    results.phases.push(await measure(`backlog + history, no index`, db, explainer, () => lastClaim, 5));
    await db.raw(`create index outbox_due_idx on outbox (next_attempt_at, id) where status = 'pending'`);

    // A burst of publishing leaves dead entries in the partial index until (auto)vacuum runs.
    await db.raw('alter table outbox set (autovacuum_enabled = false)');
    await insertBacklog(db, CHURN_ROWS);
    const hotBefore = await hotUpdates(db);
    await db.raw(
      `create table bench_pages as
       select id, (ctid::text::point)[0]::bigint as page from outbox where status = 'pending' order by id limit ?`,
      [CHURN_ROWS],
    );
    await timed(`${CHURN_ROWS} rows marked published (as relay does)`, () => publishOldest(db, CHURN_ROWS));
    const hotAfter = await hotUpdates(db);
    const samePage = await db.raw(
      `select count(*) filter (where b.page = (o.ctid::text::point)[0]::bigint) as same, count(*) as updated
       from bench_pages b join outbox o using (id)`,
    );
    results.hotUpdates = {
      updates: hotAfter.upd - hotBefore.upd,
      hot: hotAfter.hot - hotBefore.hot,
      samePage: Number(samePage.rows[0].same),
      updatedRows: Number(samePage.rows[0].updated),
    };
    results.phases.push(await measure(`after ${CHURN_ROWS} published, before vacuum`, db, explainer, () => lastClaim));
    await db.raw('vacuum outbox');
    results.phases.push(await measure(`after vacuum`, db, explainer, () => lastClaim));
    await db.raw('alter table outbox reset (autovacuum_enabled)');

    results.sizes = (
      await db.raw(`select relname as name, pg_size_pretty(pg_relation_size(oid)) as size from pg_class
                    where relname in ('outbox', 'events', 'outbox_due_idx', 'outbox_pkey', 'events_pkey',
                                      'outbox_published_at_idx', 'outbox_event_id_idx')
                    order by pg_relation_size(oid) desc`)
    ).rows;
  } finally {
    await explainer.end().catch(() => undefined);
    await db.destroy();
    if (!KEEP) await admin(`drop database if exists ${DATABASE} with (force)`);
  }
  report(results);
}

/** `count` pending rows (events written now, as ingest does, with UUIDv7 ids). */
async function insertBacklog(db, count = BACKLOG_ROWS) {
  for (let done = 0; done < count; done += 10_000) {
    const n = Math.min(10_000, count - done);
    const ids = Array.from({ length: n }, () => uuidv7());
    await db.raw(
      `with e as (
         insert into events (id, source, type, payload, headers)
         select id, 'bench', 'order.created', '{"order": 1, "amount": 12.5}'::jsonb, '{"content-type": "application/json"}'::jsonb
         from unnest(?::uuid[]) as id
         returning id
       )
       insert into outbox (event_id, broker, destination, routing_key) select id, 'rabbitmq', 'events', 'order.created' from e`,
      [`{${ids.join(',')}}`],
    );
  }
}

/**
 * HISTORY_ROWS events and their published outbox rows, spread over the last day, in chunks.
 * Ids are time-ordered like UUIDv7 and older than any real one, so they sort before the backlog.
 */
async function insertHistory(db) {
  for (let start = 1; start <= HISTORY_ROWS; start += CHUNK) {
    const end = Math.min(HISTORY_ROWS, start + CHUNK - 1);
    await db.raw(
      `with e as (
         insert into events (id, source, type, payload, headers, received_at)
         select ('00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'bench', 'order.created',
                '{"order": 1, "amount": 12.5}'::jsonb, '{"content-type": "application/json"}'::jsonb,
                now() - interval '1 day' + (g * interval '1 day' / ?)
         from generate_series(?::bigint, ?::bigint) g
         returning id, received_at
       )
       insert into outbox (event_id, broker, destination, routing_key, status, attempts, next_attempt_at,
                           created_at, first_attempt_at, last_attempt_at, published_at)
       select id, 'rabbitmq', 'events', 'order.created', 'published', 1, received_at, received_at,
              received_at, received_at + interval '20 ms', received_at + interval '20 ms'
       from e`,
      [HISTORY_ROWS, start, end],
    );
    console.error(`    ${end} / ${HISTORY_ROWS}`);
  }
}

/** Marks the oldest pending rows published in batches of BATCH, with markPublished's update. */
async function publishOldest(db, count) {
  for (let done = 0; done < count; done += 10_000) {
    await db.raw(
      `update outbox set status = 'published', published_at = now(), attempts = attempts + 1,
              first_attempt_at = coalesce(first_attempt_at, now()), last_attempt_at = now(), last_error = null
       where id in (select id from outbox where status = 'pending' order by id limit ?)`,
      [Math.min(10_000, count - done)],
    );
  }
}

/** Updates of outbox rows so far, and how many of them were HOT (no index entry written). */
async function hotUpdates(db) {
  // Backends report their counters when idle, at most once a second.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  await db.raw('select pg_stat_clear_snapshot()');
  const { rows } = await db.raw(
    `select n_tup_upd as upd, n_tup_hot_upd as hot from pg_stat_user_tables where relname = 'outbox'`,
  );
  return { upd: Number(rows[0].upd), hot: Number(rows[0].hot) };
}

/** Median wall time of the claim (claim BATCH rows, roll back) and its EXPLAIN ANALYZE. */
async function measure(label, db, explainer, lastClaim, runs = RUNS) {
  // Rolled back, so that every run claims from the same backlog.
  const claim = async () => {
    const trx = await db.transaction();
    try {
      const rows = await claimDueBatch(trx, { limit: BATCH, brokers: ['rabbitmq'] });
      if (rows.length !== Math.min(BATCH, BACKLOG_ROWS)) throw new Error(`claimed ${rows.length} rows`);
    } finally {
      await trx.rollback();
    }
  };
  await claim(); // warm the cache: the steady state is what the relay sees
  const wall = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await claim();
    wall.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const statement = lastClaim();
  const executions = [];
  let plan = null;
  for (let i = 0; i < Math.min(runs, 10); i++) {
    await explainer.query('begin');
    const { rows } = await explainer.query(
      `explain (analyze, buffers, format json) ${statement.sql}`,
      statement.bindings,
    );
    await explainer.query('rollback');
    plan = rows[0]['QUERY PLAN'][0];
    executions.push(plan['Execution Time']);
  }
  const statsWall = [];
  for (let i = 0; i < Math.min(runs, 10); i++) {
    const started = process.hrtime.bigint();
    await outboxStats(db);
    statsWall.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const phase = {
    label,
    claimWallMedianMs: median(wall),
    claimWallP90Ms: [...wall].sort((a, b) => a - b)[Math.floor(wall.length * 0.9)],
    explainExecutionMedianMs: median(executions),
    sharedBuffers: sharedBuffers(plan.Plan),
    outboxStatsMedianMs: median(statsWall),
    plan: planSummary(plan.Plan),
  };
  console.error(
    `  ${label}: claim ${ms(phase.claimWallMedianMs)} wall, ${ms(phase.explainExecutionMedianMs)} executing; ` +
      `stats ${ms(phase.outboxStatsMedianMs)}`,
  );
  return phase;
}

/** One batch of the retention delete with the history in place (everything published is expired). */
async function retentionBatch(db) {
  const times = [];
  for (let i = 0; i < 10; i++) {
    const started = process.hrtime.bigint();
    const deleted = await deletePublishedOutbox(db, { olderThanMs: 0, limit: 1000 });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (deleted !== 1000) throw new Error(`retention batch deleted ${deleted}`);
  }
  const result = { batch: 1000, medianMs: median(times) };
  console.error(`  retention batch of 1000: ${ms(result.medianMs)}`);
  return result;
}

function sharedBuffers(node) {
  return (node['Shared Hit Blocks'] ?? 0) + (node['Shared Read Blocks'] ?? 0);
}

/** Node types and the index each scan uses, depth-first: enough to see partial index vs seq scan. */
function planSummary(node, depth = 0, out = []) {
  out.push(
    `${'  '.repeat(depth)}${node['Node Type']}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}` +
      `${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}` +
      ` (rows ${node['Actual Rows']}, ${node['Actual Total Time']} ms)`,
  );
  for (const child of node.Plans ?? []) planSummary(child, depth + 1, out);
  return out;
}

function report(results) {
  const { machine: m, settings: s } = results;
  const lines = [
    `machine: ${m.cpus} x ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, PostgreSQL ${m.postgres} on loopback`,
    `claim: claimDueBatch, ${s.BATCH} rows, backlog ${s.BACKLOG_ROWS} pending; median of ${s.RUNS} runs (5 without the partial index)`,
    '',
    '| outbox holds | claim, wall (median) | claim, p90 | claim, EXPLAIN ANALYZE execution | buffers | outboxStats (gauges) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.phases.map(
      (p) =>
        `| ${p.label} | ${ms(p.claimWallMedianMs)} | ${ms(p.claimWallP90Ms)} | ${ms(p.explainExecutionMedianMs)} | ${p.sharedBuffers} | ${ms(p.outboxStatsMedianMs)} |`,
    ),
    '',
    `retention: one deletePublishedOutbox batch of ${results.retentionBatch.batch} with the history in place: ${ms(results.retentionBatch.medianMs)} (median of 10)`,
    `HOT updates while marking ${s.CHURN_ROWS} rows published: ${results.hotUpdates.hot} of ${results.hotUpdates.updates}; ` +
      `new row version on the same page: ${results.hotUpdates.samePage} of ${results.hotUpdates.updatedRows}`,
    `sizes: ${results.sizes.map((r) => `${r.name} ${r.size}`).join(', ')}`,
    '',
    ...results.phases.flatMap((p) => [`plan, ${p.label}:`, ...p.plan.map((l) => `  ${l}`)]),
  ];
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
