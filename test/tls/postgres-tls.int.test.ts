import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo, tmpdir } from 'node:os';
import path from 'node:path';
import { createDatabase, migrateLatest, type DatabaseSettings } from '@orchestron/db';
import { freePort, startApp, type AppProcess } from '@orchestron/testing';
import { issue, CLIENT_EXTENSIONS, makeCertificates, type TestCertificates } from './certificates';

// A Postgres instance of this file's own (initdb + pg_ctl on a free port, in a temp dir), which
// takes only TLS connections: the shared cluster's configuration is never touched. The apps'
// pool (createDatabase / connectionConfig) connects with database.ssl and the ssl_* files.

const PG_BIN = process.env.ORCHESTRON_PG_BIN ?? '/usr/lib/postgresql/15/bin';
let dir: string;
let dataDir: string;
let port: number;
let certs: TestCertificates;
const pools: Array<ReturnType<typeof createDatabase>> = [];
const running: AppProcess[] = [];

/** initdb refuses to run as root: run the Postgres tools as the postgres user then. */
function pgTool(tool: string, args: string[]): string {
  const command = path.join(PG_BIN, tool);
  const asRoot = userInfo().uid === 0;
  return execFileSync(asRoot ? 'runuser' : command, asRoot ? ['-u', 'postgres', '--', command, ...args] : args, {
    stdio: 'pipe',
  }).toString();
}

function settings(overrides: Partial<DatabaseSettings> = {}): DatabaseSettings {
  return {
    url: '',
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: '',
    name: 'postgres',
    max_connections: 2,
    ssl: true,
    ssl_ca_file: certs.ca,
    connect_timeout: 5_000,
    statement_timeout: 0,
    ...overrides,
  };
}

async function connectionIsTls(overrides: Partial<DatabaseSettings>): Promise<boolean> {
  const db = createDatabase(settings(overrides), 'orchestron-tls-test');
  pools.push(db);
  const result = await db.raw<{ rows: Array<{ ssl: boolean }> }>(
    'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
  );
  return result.rows[0]?.ssl === true;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'orchestron-tls-pg-'));
  certs = makeCertificates(dir, 'tlsclient');
  dataDir = path.join(dir, 'data');
  // Postgres insists on owning its key file, readable by nobody else.
  for (const file of ['server.crt', 'server.key', 'ca.crt'])
    copyFileSync(path.join(dir, file), path.join(dir, `pg-${file}`));
  chmodSync(path.join(dir, 'pg-server.key'), 0o600);
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    chownSync(dir, uid, -1);
    for (const file of ['pg-server.crt', 'pg-server.key', 'pg-ca.crt']) chownSync(path.join(dir, file), uid, -1);
  }
  pgTool('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
});

beforeAll(async () => {
  port = await freePort();
  appendFileSync(
    path.join(dataDir, 'postgresql.conf'),
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'ssl = on',
      `ssl_cert_file = '${path.join(dir, 'pg-server.crt')}'`,
      `ssl_key_file = '${path.join(dir, 'pg-server.key')}'`,
      `ssl_ca_file = '${path.join(dir, 'pg-ca.crt')}'`,
      'fsync = off',
      '',
    ].join('\n'),
  );
  // TLS only; the user tlsclient must prove its name with a client certificate.
  writeFileSync(
    path.join(dataDir, 'pg_hba.conf'),
    [
      'local all all trust',
      'hostssl all tlsclient 127.0.0.1/32 cert',
      'hostssl all all 127.0.0.1/32 trust',
      'host all all 127.0.0.1/32 reject',
      '',
    ].join('\n'),
  );
  pgTool('pg_ctl', ['-D', dataDir, '-l', path.join(dir, 'postgres.log'), '-w', 'start']);
  const admin = createDatabase(settings(), 'orchestron-tls-setup');
  await admin.raw('create role tlsclient login superuser');
  await admin.destroy();
});

beforeEach(() => {
  // knex prints every refused connection attempt; the refusals here are the point.
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(pools.splice(0).map((db) => db.destroy()));
  await Promise.all(running.splice(0).map((app) => app.kill()));
});

afterAll(() => {
  try {
    pgTool('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('Postgres over TLS', () => {
  it('connects over TLS with database.ssl and the test CA', async () => {
    expect(await connectionIsTls({})).toBe(true);
  });

  it('cannot connect without TLS (the instance refuses plain connections)', async () => {
    await expect(connectionIsTls({ ssl: false, ssl_ca_file: '' })).rejects.toThrow(/no encryption/);
  });

  it('refuses a server whose certificate another CA signed, unless told not to verify', async () => {
    await expect(connectionIsTls({ ssl_ca_file: certs.otherCa })).rejects.toThrow(/certificate/);
    expect(await connectionIsTls({ ssl_ca_file: certs.otherCa, ssl_reject_unauthorized: false })).toBe(true);
  });

  it('uses the ssl_* settings over an sslmode in database.url', async () => {
    expect(await connectionIsTls({ url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable` })).toBe(true);
  });

  it('authenticates with a client certificate from ssl_cert_file and ssl_key_file', async () => {
    await expect(connectionIsTls({ user: 'tlsclient' })).rejects.toThrow(/certificate/);
    expect(
      await connectionIsTls({ user: 'tlsclient', ssl_cert_file: certs.clientCert, ssl_key_file: certs.clientKey }),
    ).toBe(true);
    issue(dir, 'ca', 'impostor', '/CN=someone-else', CLIENT_EXTENSIONS);
    await expect(
      connectionIsTls({
        user: 'tlsclient',
        ssl_cert_file: path.join(dir, 'impostor.crt'),
        ssl_key_file: path.join(dir, 'impostor.key'),
      }),
    ).rejects.toThrow(/certificate authentication failed/);
  });

  it('runs the ingest process against it: migrations, readiness and an accepted event', async () => {
    const db = createDatabase(settings(), 'orchestron-tls-migrate');
    pools.push(db);
    await migrateLatest(db);

    const ingest = await startApp('ingest', {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
      ORCHESTRON_DATABASE_SSL: 'true',
      ORCHESTRON_DATABASE_SSL_CA_FILE: certs.ca,
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
    });
    running.push(ingest);
    expect((await fetch(`${ingest.url}/ready`)).status).toBe(200);
    const response = await fetch(`${ingest.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'user.signed_up',
        data: { user_id: 'u1', email: 'u1@example.com', signed_up_at: '2026-11-26T10:00:00Z' },
      }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    expect(await db('events').where({ id }).first()).toBeDefined();
  });
});
