import type { ReceivedMessage } from '@orchestron/broker';
import { generateApiKey, insertApiKey } from '@orchestron/db';
import {
  amqpUrl,
  createTestDatabase,
  eventually,
  seedPublishedEvents,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { AdminClient } from '../../apps/admin/test/openapi-check';
import { consumeRabbitMq, uniqueName, type Received } from './harness';

// A replay as deployed: the admin app (its replay runner inside) and the relay as processes,
// the real Postgres and RabbitMQ, an independent consumer. The admin process is killed with
// SIGKILL mid-replay; another one takes the replay over once its lease runs out, and the
// consumer still gets every event exactly once for that replay.

let database: TestDatabase;
const running: AppProcess[] = [];
let received: Received | undefined;
let operatorKey = '';

beforeAll(async () => {
  database = await createTestDatabase('e2e_admin_replay');
  const material = generateApiKey();
  await insertApiKey(database.db, {
    name: 'operator',
    keyHash: material.hash,
    keyPrefix: material.prefix,
    roles: ['operator'],
    allowedSources: ['*'],
    allowedTypes: ['*'],
  });
  operatorKey = material.key;
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()));
  await received?.close();
  await database.drop();
});

describe('a replay run by the admin app', () => {
  it('survives a SIGKILL of the admin process and reaches the consumer once per event, marked', async () => {
    const exchange = uniqueName('orchestron_e2e_replay');
    const events = await seedPublishedEvents(
      database.db,
      Array.from({ length: 120 }, (_, i) => ({ source: i % 2 === 0 ? 'shop' : 'crm', type: 'order.created' })),
      { broker: 'rabbitmq', destination: exchange },
    );
    const consumer = await consumeRabbitMq(exchange);
    received = consumer;
    const common = { DATABASE_URL: database.url, ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange };
    running.push(await startApp('relay', { ...common, AMQP_URL: amqpUrl(), ORCHESTRON_BROKER_TYPE: 'rabbitmq' }));
    const adminEnv = {
      ...common,
      ORCHESTRON_ADMIN_RATE_LIMIT: '0',
      ORCHESTRON_REPLAY_LEASE: '2s',
      ORCHESTRON_REPLAY_POLL_INTERVAL: '200ms',
    };
    const first = await startApp('admin', adminEnv);
    running.push(first);

    const started = await new AdminClient(first.url).call('POST', '/v1/replays', {
      key: operatorKey,
      body: { filter: { sources: ['shop'], since: '1h' }, rate_limit: 15 },
    });
    expect(started.status).toBe(202);
    const replayId = (started.body as { id: string }).id;
    await eventually(async () => (await database.db('replays').where({ id: replayId }).first()).matched >= 15, {
      timeoutMs: 20_000,
      message: () => `the admin's runner did not start the replay:\n${first.output()}`,
    });
    await first.kill();
    const atKill = (await database.db('replays').where({ id: replayId }).first()).matched as number;
    expect(atKill).toBeLessThan(60);

    const second = await startApp('admin', adminEnv);
    running.push(second);
    await eventually(
      async () => (await database.db('replays').where({ id: replayId }).first()).status === 'completed',
      {
        timeoutMs: 60_000,
        message: () => `the second admin did not complete the replay:\n${second.output()}`,
      },
    );
    const expected = events.filter((e) => e.source === 'shop').map((e) => e.id);
    await eventually(() => consumer.messages.length >= expected.length, {
      timeoutMs: 30_000,
      message: () => `received ${consumer.messages.length} of ${expected.length} replayed messages`,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const messages: readonly ReceivedMessage[] = consumer.messages;
    expect(messages.map((m) => m.id).sort()).toEqual([...expected].sort());
    expect(new Set(messages.map((m) => m.headers['cloudEvents:orchestronreplay']))).toEqual(new Set([replayId]));
  });
});
