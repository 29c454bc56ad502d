import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { promisify } from 'node:util';
import type { OutboundMessage, Publisher } from '@orchestron/broker';
import { KafkaPublisher } from '@orchestron/broker-kafka';
import { loadConfig } from '@orchestron/config';
import { createLogger } from '@orchestron/observability';
import { freePort, REPO_ROOT } from '@orchestron/testing';
import { tlsFromFiles } from '@orchestron/config';
import { createPublisher } from '../../apps/relay/src/create-publisher';
import { makeCertificates, type TestCertificates } from './certificates';

// A Kafka broker of this file's own (deploy/local/kafka.sh with its optional SSL listener, in a
// temp state directory, on free ports) that demands client certificates on that listener; the
// shared broker is never touched. The relay's publisher connects with broker.kafka.ssl_* files.

const KAFKA_VERSION = process.env.KAFKA_VERSION ?? '4.4.0';
let dir: string;
let certs: TestCertificates;
let sslPort: number;
let kafkaEnv: NodeJS.ProcessEnv;

async function kafkaScript(command: 'start' | 'stop'): Promise<void> {
  await promisify(execFile)('bash', [path.join(REPO_ROOT, 'deploy/local/kafka.sh'), command], {
    env: kafkaEnv,
    timeout: 150_000,
  });
}

const message = (): OutboundMessage => ({
  id: randomBytes(8).toString('hex'),
  type: 'tls.checked',
  source: 'tls-test',
  time: new Date(),
  contentType: 'application/json',
  headers: {},
  destination: 'orchestron-tls',
  routingKey: 'tls.checked',
  key: 'k',
  payload: Buffer.from('{"ok":true}'),
});

/** Publishes one message through the relay's publisher (createPublisher) configured by `env`. */
async function publishes(env: Record<string, string>): Promise<boolean> {
  const config = loadConfig({
    env: { ORCHESTRON_BROKER_TYPE: 'kafka', KAFKA_BROKERS: `127.0.0.1:${sslPort}`, ...env },
  });
  return publishWith(createPublisher('kafka', config.broker, createLogger({ service: 'test', silent: true })));
}

/** A publisher that gives up after one retry: the refusals below need no 9 s of backoff each. */
function impatientPublisher(ssl: ConnectionOptions | false): Publisher {
  return new KafkaPublisher({
    brokers: [`127.0.0.1:${sslPort}`],
    clientId: 'orchestron-tls-test',
    ssl,
    connectionTimeoutMs: 2_000,
    retry: { retries: 1, initialRetryTimeMs: 100, maxRetryTimeMs: 200 },
  });
}

async function publishWith(publisher: Publisher): Promise<boolean> {
  try {
    await publisher.connect();
    const [result] = await publisher.publish([message()]);
    return result?.ok === true;
  } catch {
    return false;
  } finally {
    await publisher.close();
  }
}

const tlsEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  ORCHESTRON_BROKER_KAFKA_SSL: 'true',
  ORCHESTRON_BROKER_KAFKA_SSL_CA_FILE: certs.ca,
  ORCHESTRON_BROKER_KAFKA_SSL_CERT_FILE: certs.clientCert,
  ORCHESTRON_BROKER_KAFKA_SSL_KEY_FILE: certs.clientKey,
  ...extra,
});

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'orchestron-tls-kafka-'));
  certs = makeCertificates(dir);
  // Kafka's PEM key store: the private key, then the certificate chain, in one file.
  const keystore = path.join(dir, 'kafka-keystore.pem');
  writeFileSync(keystore, readFileSync(certs.serverKey, 'utf8') + readFileSync(certs.serverCert, 'utf8'));
  // Reuse the jars the shared broker's start cached, rather than fetching them again.
  const cachedLib = path.join(
    process.env.ORCHESTRON_LOCAL_DIR ?? path.join(homedir(), '.cache/orchestron'),
    'kafka',
    KAFKA_VERSION,
    'lib',
  );
  if (existsSync(path.join(cachedLib, '.complete'))) {
    mkdirSync(path.join(dir, 'kafka', KAFKA_VERSION), { recursive: true });
    symlinkSync(cachedLib, path.join(dir, 'kafka', KAFKA_VERSION, 'lib'));
  }
  sslPort = await freePort();
  kafkaEnv = {
    ...process.env,
    ORCHESTRON_LOCAL_DIR: dir,
    KAFKA_VERSION,
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    KAFKA_SSL_PORT: String(sslPort),
    KAFKA_SSL_KEYSTORE_PEM: keystore,
    KAFKA_SSL_TRUSTSTORE_PEM: certs.ca,
    KAFKA_SSL_CLIENT_AUTH: 'required',
  };
  await kafkaScript('start');
}, 180_000);

afterAll(async () => {
  try {
    await kafkaScript('stop');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

describe('Kafka over TLS', () => {
  it('publishes with the CA and client certificate from broker.kafka.ssl_*', async () => {
    expect(await publishes(tlsEnv())).toBe(true);
  });

  it('is refused without a client certificate, with a CA that did not sign the broker, or without TLS', async () => {
    const files = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    expect(await publishWith(impatientPublisher(tlsFromFiles(files)))).toBe(true);
    expect(await publishWith(impatientPublisher(tlsFromFiles({ ...files, cert: '', key: '' })))).toBe(false);
    expect(await publishWith(impatientPublisher(tlsFromFiles({ ...files, ca: certs.otherCa })))).toBe(false);
    expect(await publishWith(impatientPublisher(false))).toBe(false);
  });
});
