import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type * as Amqp from 'amqplib';
import {
  amqpUrl,
  createTestDatabase,
  eventually,
  REPO_ROOT,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { postEvents, signup } from '../e2e/harness';
import { configFileIn, renderKustomization, type K8sObject } from './kustomize';

// The Kubernetes deployment as shipped, run for real: the config file `kubectl kustomize`
// renders for the relay (and for ingest), given to the built apps unchanged, with only
// addresses and credentials from the environment, as the Secrets give them in a cluster. An
// event POSTed to ingest must reach a queue the shipped topology declares, not the
// dead-letter table. The broker side runs in a RabbitMQ virtual host of this test's own, so the
// shipped exchange and queue names (events, events.all) meet nobody else's.

const run = promisify(execFile);
// amqplib is a dependency of the RabbitMQ adapter only; load that copy to read the queue.
const amqplib = createRequire(path.join(REPO_ROOT, 'packages', 'broker-rabbitmq', 'package.json'))(
  'amqplib',
) as typeof Amqp;

// The virtual host is made on the RabbitMQ node of this machine (that of TEST_AMQP_URL in the
// project's set-up), with rabbitmqctl as `npm test` has it.
const rabbitmqctl = (args: string[]): Promise<unknown> => run('rabbitmqctl', args, { timeout: 120_000 });

let database: TestDatabase;
let configDir: string;
let vhost: string;
let vhostUrl: string;
const running: AppProcess[] = [];

/** Writes the config file a rendered workload mounts; returns its path. */
function shippedConfigFile(folder: 'ingest' | 'relay'): string {
  const objects = renderKustomization(path.join(REPO_ROOT, 'deploy/k8s', folder));
  const deployment = objects.find((o: K8sObject) => o.kind === 'Deployment' && o.metadata.name === folder)!;
  const file = path.join(configDir, `${folder}.yaml`);
  writeFileSync(file, configFileIn(objects, deployment).text);
  return file;
}

beforeAll(async () => {
  database = await createTestDatabase('shipped_config');
  configDir = mkdtempSync(path.join(os.tmpdir(), 'orchestron-shipped-'));
  vhost = database.name;
  const url = new URL(amqpUrl());
  await rabbitmqctl(['add_vhost', vhost]);
  await rabbitmqctl(['set_permissions', '-p', vhost, decodeURIComponent(url.username), '.*', '.*', '.*']);
  url.pathname = `/${encodeURIComponent(vhost)}`;
  vhostUrl = url.toString();
}, 180_000);

afterAll(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  await rabbitmqctl(['delete_vhost', vhost]).catch(() => undefined);
  rmSync(configDir, { recursive: true, force: true });
  await database.drop();
}, 180_000);

describe('the shipped Kubernetes config, run against the real RabbitMQ', () => {
  it('delivers an event posted to ingest into the queue the relay config declares, none dead-lettered', async () => {
    const relay = await startApp('relay', {
      ORCHESTRON_CONFIG: shippedConfigFile('relay'),
      ORCHESTRON_LOG_LEVEL: undefined,
      DATABASE_URL: database.url,
      AMQP_URL: vhostUrl,
    });
    running.push(relay);
    const ingest = await startApp('ingest', {
      ORCHESTRON_CONFIG: shippedConfigFile('ingest'),
      ORCHESTRON_LOG_LEVEL: undefined,
      DATABASE_URL: database.url,
      // A test without an API key; the route is the shipped config's.
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
    });
    running.push(ingest);

    const response = await postEvents(ingest.url, signup(1));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };

    const connection = await amqplib.connect(vhostUrl);
    try {
      const channel = await connection.createChannel();
      let received: Amqp.GetMessage | undefined;
      await eventually(
        async () => {
          received = (await channel.get('events.all', { noAck: true })) || undefined;
          return received !== undefined;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 250,
          message: () => `no message in events.all; relay output:\n${relay.output()}`,
        },
      );
      expect(received?.properties.messageId).toBe(id);
    } finally {
      await connection.close();
    }
    await eventually(
      async () => Number((await database.db('outbox').where({ status: 'published' }).count({ n: '*' }))[0]?.n) === 1,
      { timeoutMs: 10_000, message: () => 'the outbox row was not marked published' },
    );
    expect(Number((await database.db('dead_letter_queue').count({ n: '*' }))[0]?.n)).toBe(0);
    expect(relay.output()).not.toMatch(/no binding in broker\.rabbitmq\.topology/);
  }, 90_000);
});
