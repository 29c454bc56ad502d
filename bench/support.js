// Helpers shared by the bench/ scripts: a scratch database, the built apps as child processes,
// RSS sampling, medians and percentiles, the machine's description. Plain CommonJS over the
// BUILT packages (run `npx tsc -b` first), like claim-with-history.js.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const repo = path.join(__dirname, '..');
const fromPackage = (name, pkg) => require(require.resolve(name, { paths: [path.join(repo, pkg)] }));
const pg = fromPackage('pg', 'packages/db');
const db = require(path.join(repo, 'packages/db/dist'));

const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const KAFKA_BROKERS = (process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const LOOPBACK = ['127.0.0.1', 'localhost', '::1', '[::1]'];

/** Refuses anything but loopback: these scripts generate load. */
function requireLoopback() {
  const hosts = [
    new URL(SERVER_URL).hostname,
    new URL(AMQP_URL).hostname,
    ...KAFKA_BROKERS.map((b) => b.replace(/:\d+$/, '')),
  ];
  for (const host of hosts) {
    if (!LOOPBACK.includes(host)) {
      console.error(`refusing to load ${host}: benchmarks run against loopback addresses only`);
      process.exit(2);
    }
  }
}

function urlOf(database) {
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin(sql) {
  const client = new pg.Client({ connectionString: urlOf('postgres') });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates (after dropping a leftover) and migrates a scratch database; returns its URL and a knex. */
async function scratchDatabase(name) {
  await admin(`drop database if exists ${name} with (force)`);
  await admin(`create database ${name}`);
  const url = urlOf(name);
  const knex = db.createDatabase(
    { url, max_connections: 4, connect_timeout: 5_000, statement_timeout: 0, ssl: false },
    'orchestron-bench',
  );
  await db.migrateLatest(knex);
  return {
    url,
    knex,
    async drop() {
      await knex.destroy();
      if (!process.argv.includes('--keep')) await admin(`drop database if exists ${name} with (force)`);
    },
  };
}

/** An API key allowed to write every source and type (the full path authenticates). */
async function createApiKey(knex) {
  const { key, hash, prefix } = db.generateApiKey();
  await db.insertApiKey(knex, {
    name: 'bench',
    keyHash: hash,
    keyPrefix: prefix,
    roles: ['ingest'],
    allowedSources: ['*'],
    allowedTypes: ['*'],
  });
  return key;
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Node flags for the apps, as scripts/lib.sh (APP_NODE_OPTIONS) and the images run them; `APP_NODE_ARGS=` runs
// them with Node's defaults (e.g. to measure what the semi-space cap does to RSS).
const APP_NODE_ARGS = (process.env.APP_NODE_ARGS ?? '--max-semi-space-size=8').split(' ').filter(Boolean);

/**
 * Starts `node [APP_NODE_ARGS] [options.nodeArgs] apps/<name>/dist/main.js` (or `options.main`) with a clean environment plus `env` (as
 * packages/testing startApp does) and waits for /health. Stdout (the JSON logs) goes to
 * /dev/null, so logging costs what it costs in production minus a terminal; stderr is kept.
 */
async function startApp(name, env, options = {}) {
  const port = await freePort();
  const addressKey = name === 'ingest' ? 'ORCHESTRON_API_ADDRESS' : 'ORCHESTRON_RELAY_ADDRESS';
  // `main`: another build of the app (a copy of an earlier dist/, for before/after figures);
  // its packages resolve from the app's own node_modules.
  const main = options.main ?? path.join(repo, 'apps', name, 'dist', 'main.js');
  const child = spawn(process.execPath, [...APP_NODE_ARGS, ...(options.nodeArgs ?? []), main], {
    cwd: repo,
    env: {
      PATH: process.env.PATH ?? '',
      ORCHESTRON_LOG_LEVEL: 'info',
      ORCHESTRON_SCHEMAS_DIRECTORY: path.join(repo, 'schemas'),
      [addressKey]: `127.0.0.1:${port}`,
      ...(options.main ? { NODE_PATH: path.join(repo, 'apps', name, 'node_modules') } : {}),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk.toString()).slice(-10_000)));
  let alive = true;
  const exited = new Promise((resolve) => child.once('exit', (code) => ((alive = false), resolve(code))));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!alive) throw new Error(`${name} exited during start:\n${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer /health in time:\n${stderr}`);
    }
    await sleep(100);
  }
  return {
    child,
    url,
    pid: child.pid,
    async stop() {
      if (alive) child.kill('SIGTERM');
      const timer = setTimeout(() => alive && child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resident set size of a process, bytes (Linux /proc). */
function rssOf(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; keeps every sample. */
function sampleRss(pid, everyMs = 250) {
  const samples = [];
  const timer = setInterval(() => {
    const rss = rssOf(pid);
    if (rss !== null) samples.push({ at: Date.now(), rss });
  }, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      return samples;
    },
    peak: () => Math.max(0, ...samples.map((s) => s.rss)),
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of unsorted values (p in 0..100). */
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const fixed = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function machine() {
  let postgres = 'unknown';
  try {
    postgres = execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // psql not on PATH: the scripts ask the server instead where it matters
  }
  return {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    postgres,
  };
}

function describeMachine() {
  const m = machine();
  return `machine: ${m.cpus} x ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}; ${m.postgres}`;
}

/** A markdown table from a header row and rows of cells. */
function table(header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/**
 * A 1 KB order.created event (valid against schemas/order.created/1.json): the `note` pads
 * the JSON body of a single-event request to exactly `bytes`.
 */
function orderEvent(n, bytes = 1024) {
  const event = {
    type: 'order.created',
    data: {
      order_id: `o-${n}`,
      customer_id: `c-${n % 997}`,
      total: 129.9,
      currency: 'EUR',
      items: [
        { sku: 'sku-1', quantity: 2, unit_price: 19.95 },
        { sku: 'sku-2', quantity: 1, unit_price: 90 },
      ],
      note: '',
    },
  };
  const size = Buffer.byteLength(JSON.stringify(event));
  event.data.note = 'x'.repeat(Math.max(0, bytes - size));
  return event;
}

/**
 * Self time per function and per package (node_modules/<name>, our packages, node internals) of
 * a V8 .cpuprofile (`node --cpu-prof`), as markdown tables of the `top` entries.
 */
function summariseProfile(profile, top = 30) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byPackage = new Map();
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const fn = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
    const pkg = packageOf(functionName, url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  }
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => [name, `${((100 * micros) / total).toFixed(1)}%`]);
  return [
    `\nself time by package (of ${(total / 1e6).toFixed(1)} s sampled):\n`,
    table(['package', 'self'], rows(byPackage)),
    `\nself time by function (top ${top}):\n`,
    table(['function', 'self'], rows(byFunction)),
  ].join('\n');
}

function shortUrl(url) {
  const at = url.lastIndexOf('node_modules/');
  if (at >= 0) return url.slice(at + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
  return url.replace(`file://${repo}/`, '');
}

function packageOf(functionName, url) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  const own = /(apps|packages)\/([^/]+)\//.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

/**
 * A time-ordered UUID in SQL (48-bit millisecond prefix, like the UUIDv7 ingest makes), so that
 * rows written by SQL land at the right edge of the primary key index as ingest's do.
 */
const TIME_ORDERED_UUID = `encode(overlay(uuid_send(gen_random_uuid()) placing
  substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 'hex')::uuid`;

/**
 * A backlog of `events` pending events as ingest stores them (1 KB order.created payloads,
 * ingest's headers), each with one outbox row to `destination`, written in SQL 10 000 at a time
 * after emptying the tables; vacuumed and analysed, as autovacuum would have by then.
 */
async function seedBacklog(knex, { events, broker, destination }) {
  await knex.raw('truncate events, outbox, dead_letter_queue cascade');
  const data = JSON.stringify(orderEvent(0).data);
  for (let start = 1; start <= events; start += 10_000) {
    const end = Math.min(events, start + 9_999);
    await knex.raw(
      `with e as (
         insert into events (id, source, type, schema_version, payload, headers, received_at)
         select ${TIME_ORDERED_UUID}, 'bench', 'order.created', 1, ?::jsonb,
                jsonb_build_object('request-id', gen_random_uuid()::text, 'content-type', 'application/json',
                  'api-key', 'bench', 'traceparent', '00-' || md5(g::text) || '-' || left(md5(g::text), 16) || '-01'),
                now()
         from generate_series(?::int, ?::int) g
         returning id
       )
       insert into outbox (event_id, broker, destination, routing_key)
       select id, ?, ?, 'order.created' from e order by id`,
      [data, start, end, broker, destination],
    );
  }
  await knex.raw('vacuum analyze events');
  await knex.raw('vacuum analyze outbox');
}

/**
 * A reference server for bench/ingest.js as a child process (pool of 20, like ingest's):
 * bench/minimal-ingest-server.js, or `script` (express-ingest-server.js).
 */
async function startReferenceServer(databaseUrl, script = 'minimal-ingest-server.js') {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(__dirname, script)], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), DATABASE_URL: databaseUrl, POOL_SIZE: '20' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise((resolve, reject) => {
    child.stderr.once('data', resolve);
    child.once('exit', () => reject(new Error(`${script} exited during start`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** CPU time (user + system) of each process, milliseconds, from /proc. */
function cpuMillis(pids) {
  const byPid = new Map();
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      byPid.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / 100); // USER_HZ is 100
    } catch {
      // gone meanwhile
    }
  }
  return byPid;
}

/** Pids of the processes whose command line matches `pattern` (pgrep -f). */
function pidsOf(pattern) {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return [];
  }
}

/**
 * A fresh topic exchange with a durable queue of the same name bound to it with '#', on a
 * connection of its own; `remove()` deletes both and closes the connection.
 */
async function exchangeWithQueue(exchange) {
  const amqp = fromPackage('amqplib', 'packages/broker-rabbitmq');
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(exchange, { durable: true });
  await channel.bindQueue(exchange, exchange, '#');
  return {
    channel,
    async remove() {
      await channel.deleteQueue(exchange);
      await channel.deleteExchange(exchange);
      await connection.close();
    },
  };
}

/**
 * A fresh Kafka topic of `partitions` (3, the relay's default for the topics it creates), with
 * the kafkajs client and the admin client that made it; `remove()` deletes it.
 */
async function kafkaTopic(topic, partitions = 3) {
  const { Kafka, logLevel } = fromPackage('kafkajs', 'packages/broker-kafka');
  const kafka = new Kafka({ clientId: 'orchestron-bench', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  return {
    kafka,
    admin,
    async remove() {
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
    },
  };
}

/** `count` messages as the relay builds them for a backlog: same payload, same kinds of header. */
function outboundMessages(count, destination, payload) {
  const time = new Date();
  return Array.from({ length: count }, (_, i) => ({
    id: db.uuidv7(),
    type: 'order.created',
    source: 'bench',
    time,
    contentType: 'application/json',
    destination,
    routingKey: 'order.created',
    key: null,
    headers: {
      'x-request-id': `r-${i}`,
      'api-key': 'bench',
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    },
    payload,
  }));
}

/** CPU used since `before` (a cpuMillis map) by the processes matching `pattern` now; new ones count from zero. */
function cpuSince(pattern, before) {
  let total = 0;
  for (const [pid, ms] of cpuMillis(pidsOf(pattern))) total += ms - (before.get(pid) ?? 0);
  return total;
}

module.exports = {
  AMQP_URL,
  KAFKA_BROKERS,
  SERVER_URL,
  TIME_ORDERED_UUID,
  admin,
  createApiKey,
  cpuMillis,
  cpuSince,
  db,
  describeMachine,
  exchangeWithQueue,
  fixed,
  fromPackage,
  kafkaTopic,
  machine,
  mb,
  median,
  orderEvent,
  outboundMessages,
  percentile,
  pidsOf,
  pg,
  repo,
  requireLoopback,
  rssOf,
  sampleRss,
  scratchDatabase,
  seedBacklog,
  sleep,
  startApp,
  startReferenceServer,
  summariseProfile,
  table,
  urlOf,
};
