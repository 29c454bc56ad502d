import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createTestDatabase, eventually, startApp, type AppProcess, type TestDatabase } from '@orchestron/testing';
import { issue, makeCertificates, SERVER_EXTENSIONS, type TestCertificates } from './certificates';

// The ingest process serving HTTPS from api.tls.*, reached with the test CA: real requests over
// real TLS, with and without client certificates, and a certificate rotated under it.

let database: TestDatabase;
let dir: string;
let certs: TestCertificates;
const running: AppProcess[] = [];

interface Reply {
  status: number;
  body: string;
  /** Serial number of the certificate the server presented. */
  serverSerial: string;
}

/** One request on a fresh connection (no agent: each request does its own handshake). */
function request(
  url: string,
  options: { method?: string; body?: unknown; ca?: string; cert?: string; key?: string } = {},
): Promise<Reply> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        agent: false,
        ca: options.ca ? readFileSync(options.ca) : undefined,
        cert: options.cert ? readFileSync(options.cert) : undefined,
        key: options.key ? readFileSync(options.key) : undefined,
        headers: body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        const serverSerial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, serverSerial }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function startHttpsIngest(env: Record<string, string> = {}): Promise<AppProcess> {
  const ingest = await startApp(
    'ingest',
    {
      DATABASE_URL: database.url,
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
      ORCHESTRON_API_TLS_CERT_FILE: path.join(dir, 'live.crt'),
      ORCHESTRON_API_TLS_KEY_FILE: path.join(dir, 'live.key'),
      ...env,
    },
    {
      protocol: 'https',
      probe: async (url) => (await request(`${url}/health`, { ca: certs.ca })).status === 200,
    },
  );
  running.push(ingest);
  return ingest;
}

const event = {
  type: 'user.signed_up',
  data: { user_id: 'u1', email: 'u1@example.com', signed_up_at: '2026-11-26T10:00:00Z' },
};

beforeAll(async () => {
  database = await createTestDatabase('tls_ingest_https');
  dir = mkdtempSync(path.join(tmpdir(), 'orchestron-tls-https-'));
  certs = makeCertificates(dir);
});

beforeEach(() => {
  // The files ingest serves; the rotation test replaces them.
  copyFileSync(certs.serverCert, path.join(dir, 'live.crt'));
  copyFileSync(certs.serverKey, path.join(dir, 'live.key'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.kill()));
});

afterAll(async () => {
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ingest over HTTPS', () => {
  it('accepts events over TLS from a client that trusts the test CA', async () => {
    const ingest = await startHttpsIngest();
    expect(ingest.url).toMatch(/^https:/);
    const reply = await request(`${ingest.url}/events`, { method: 'POST', body: event, ca: certs.ca });
    expect(reply.status).toBe(202);
    expect((JSON.parse(reply.body) as { id: string }).id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is refused by a client that does not trust its CA, and does not speak plain HTTP', async () => {
    const ingest = await startHttpsIngest();
    await expect(request(`${ingest.url}/health`, { ca: certs.otherCa })).rejects.toThrow(/certificate/);
    await expect(fetch(`${ingest.url.replace('https:', 'http:')}/health`)).rejects.toThrow();
  });

  it('with a client CA, refuses requests without a certificate it signed, but keeps the probes open', async () => {
    const ingest = await startHttpsIngest({ ORCHESTRON_API_TLS_CA_FILE: certs.ca });
    const anonymous = await request(`${ingest.url}/events`, { method: 'POST', body: event, ca: certs.ca });
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ status: 401, title: 'Client certificate required' });

    const stranger = await request(`${ingest.url}/events`, {
      method: 'POST',
      body: event,
      ca: certs.ca,
      cert: certs.strangerCert,
      key: certs.strangerKey,
    });
    expect(stranger.status).toBe(401);

    const known = await request(`${ingest.url}/events`, {
      method: 'POST',
      body: event,
      ca: certs.ca,
      cert: certs.clientCert,
      key: certs.clientKey,
    });
    expect(known.status).toBe(202);
    expect((await request(`${ingest.url}/health`, { ca: certs.ca })).status).toBe(200);
    expect((await request(`${ingest.url}/ready`, { ca: certs.ca })).status).toBe(200);
  });

  it('serves a renewed certificate from the same files after SIGHUP, without a restart', async () => {
    const ingest = await startHttpsIngest();
    const before = await request(`${ingest.url}/health`, { ca: certs.ca });

    issue(dir, 'ca', 'renewed', '/CN=localhost', SERVER_EXTENSIONS);
    copyFileSync(path.join(dir, 'renewed.crt'), path.join(dir, 'live.crt'));
    copyFileSync(path.join(dir, 'renewed.key'), path.join(dir, 'live.key'));
    ingest.child.kill('SIGHUP');

    await eventually(
      async () => (await request(`${ingest.url}/health`, { ca: certs.ca })).serverSerial !== before.serverSerial,
      { timeoutMs: 5_000, message: () => ingest.output() },
    );
    expect(ingest.child.exitCode).toBeNull();
    const after = await request(`${ingest.url}/events`, { method: 'POST', body: event, ca: certs.ca });
    expect(after.status).toBe(202);
  });
});
