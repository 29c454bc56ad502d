import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ReceivedMessage, Subscription } from '@orchestron/broker';
import { RabbitMqConsumer } from '@orchestron/broker-rabbitmq';
import { loadConfig } from '@orchestron/config';
import { createLogger } from '@orchestron/observability';
import {
  createTestDatabase,
  eventually,
  freePort,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { createPublisher } from '../../apps/relay/src/create-publisher';
import { makeCertificates, type TestCertificates } from './certificates';

// A RabbitMQ node of this file's own, with only an amqps listener that demands a client
// certificate; the shared node is never touched. The relay connects with broker.rabbitmq.tls
// and its ca/cert/key files, and an event goes from ingest through it to a consumer.

const RABBITMQ_BIN = process.env.ORCHESTRON_RABBITMQ_BIN ?? '/usr/lib/rabbitmq/bin';
let dir: string;
let certs: TestCertificates;
let node: string;
let port: number;
let server: ChildProcess;
let database: TestDatabase;
const running: AppProcess[] = [];
const closers: Array<() => Promise<void>> = [];

/** The node's environment: its own name, ports, files and Erlang cookie (HOME). */
function nodeEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: path.join(dir, 'home'),
    RABBITMQ_NODENAME: node,
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
    RABBITMQ_DIST_PORT: String(distPort),
    // A crashing VM (the node or a CLI call) writes its dump here, never into the repository.
    ERL_CRASH_DUMP: path.join(dir, 'erl_crash.dump'),
  };
}
let distPort: number;

function rabbitmqctl(args: string[]): string {
  return execFileSync(path.join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', node, ...args], {
    cwd: dir,
    env: nodeEnv(),
    stdio: 'pipe',
    timeout: 90_000,
  }).toString();
}

/** await_startup gives up at once while the node is not registered yet: ask until it is. */
async function awaitStartup(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      rabbitmqctl(['await_startup', '--timeout', '30']);
      return;
    } catch (error) {
      if (server.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `RabbitMQ node did not start: ${(error as Error).message}\n${readFileSync(path.join(dir, 'server.log'), 'utf8')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

const amqpsUrl = (): string => `amqps://guest:guest@127.0.0.1:${port}`;
const pem = (file: string): string => readFileSync(file, 'utf8');

function relayConfigEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AMQP_URL: amqpsUrl(),
    ORCHESTRON_BROKER_RABBITMQ_CA_FILE: certs.ca,
    ORCHESTRON_BROKER_RABBITMQ_CERT_FILE: certs.clientCert,
    ORCHESTRON_BROKER_RABBITMQ_KEY_FILE: certs.clientKey,
    ...extra,
  };
}

/** Connects the relay's publisher (createPublisher) as configured by `env`; true when connected. */
async function publisherConnects(env: Record<string, string>): Promise<boolean> {
  const config = loadConfig({ env });
  const publisher = createPublisher('rabbitmq', config.broker, createLogger({ service: 'test', silent: true }));
  try {
    await publisher.connect();
    return publisher.isHealthy();
  } catch {
    return false;
  } finally {
    await publisher.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'orchestron-tls-rabbitmq-'));
  certs = makeCertificates(dir);
  // The node runs as this user and reads its files: keys readable by it only.
  for (const key of [certs.serverKey, certs.clientKey]) chmodSync(key, 0o600);
  node = `orchestron-tls-${randomBytes(4).toString('hex')}@localhost`;
  port = await freePort();
  distPort = await freePort();
  mkdirSync(path.join(dir, 'home'));
  writeFileSync(path.join(dir, 'home', '.erlang.cookie'), randomBytes(16).toString('hex'), { mode: 0o400 });
  writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(
    path.join(dir, 'rabbitmq.conf'),
    [
      'listeners.tcp = none',
      `listeners.ssl.default = 127.0.0.1:${port}`,
      `ssl_options.cacertfile = ${certs.ca}`,
      `ssl_options.certfile = ${certs.serverCert}`,
      `ssl_options.keyfile = ${certs.serverKey}`,
      'ssl_options.verify = verify_peer',
      'ssl_options.fail_if_no_peer_cert = true',
      '',
    ].join('\n'),
  );
  const log = openSync(path.join(dir, 'server.log'), 'a');
  server = spawn(path.join(RABBITMQ_BIN, 'rabbitmq-server'), [], {
    cwd: dir,
    env: nodeEnv(),
    detached: true,
    stdio: ['ignore', log, log],
  });
  await awaitStartup(60_000);
  database = await createTestDatabase('tls_rabbitmq');
}, 120_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.kill()));
  await Promise.all(closers.splice(0).map((close) => close()));
});

afterAll(async () => {
  try {
    rabbitmqctl(['stop']);
  } catch {
    // Not answering (e.g. it never started): end its whole process group, then wait for it.
    if (server.pid && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      process.kill(-server.pid, 'SIGKILL');
      await exited;
    }
  }
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('RabbitMQ over TLS (amqps)', () => {
  it('connects with the CA and client certificate from broker.rabbitmq.*', async () => {
    expect(await publisherConnects(relayConfigEnv())).toBe(true);
  });

  it('fails without the client certificate, and without the CA that signed the server', async () => {
    expect(
      await publisherConnects(
        relayConfigEnv({ ORCHESTRON_BROKER_RABBITMQ_CERT_FILE: '', ORCHESTRON_BROKER_RABBITMQ_KEY_FILE: '' }),
      ),
    ).toBe(false);
    expect(await publisherConnects(relayConfigEnv({ ORCHESTRON_BROKER_RABBITMQ_CA_FILE: certs.otherCa }))).toBe(false);
  });

  it('builds an amqps URL from broker.rabbitmq.tls and the parts', async () => {
    expect(
      await publisherConnects(
        relayConfigEnv({
          AMQP_URL: '',
          ORCHESTRON_BROKER_RABBITMQ_TLS: 'true',
          ORCHESTRON_BROKER_RABBITMQ_HOST: '127.0.0.1',
          ORCHESTRON_BROKER_RABBITMQ_PORT: String(port),
        }),
      ),
    ).toBe(true);
  });

  it('delivers an event from ingest through the relay to a consumer, all over TLS to the broker', async () => {
    const exchange = `orchestron_tls_${randomBytes(4).toString('hex')}`;
    const consumer = new RabbitMqConsumer({
      url: amqpsUrl(),
      socketOptions: { ca: pem(certs.ca), cert: pem(certs.clientCert), key: pem(certs.clientKey) },
    });
    const received: ReceivedMessage[] = [];
    const subscription: Subscription = await consumer.subscribe({ destination: exchange, bindingKey: '#' }, (m) => {
      received.push(m);
    });
    closers.push(async () => {
      await subscription.stop();
      await consumer.close();
    });
    const env = {
      DATABASE_URL: database.url,
      ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
      ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '200ms',
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
      ...relayConfigEnv(),
    };
    const relay = await startApp('relay', env);
    running.push(relay);
    await eventually(async () => (await fetch(`${relay.url}/ready`)).ok, {
      timeoutMs: 10_000,
      message: () => relay.output(),
    });
    const ingest = await startApp('ingest', env);
    running.push(ingest);

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
    await eventually(() => received.some((m) => m.id === id), {
      timeoutMs: 10_000,
      message: () => relay.output(),
    });
  });
});
