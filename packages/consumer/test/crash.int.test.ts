import { spawn } from 'node:child_process';
import path from 'node:path';
import { Registry } from 'prom-client';
import { eventually } from '@orchestron/testing';
import { createConsumer } from '../src';
import {
  consumerDatabase,
  kafkaHarness,
  metricValue,
  rabbitMqHarness,
  type BrokerHarness,
  type ConsumerDatabase,
} from './harness';
import { relayMessage } from './relay-messages';

const FIXTURE = path.join(__dirname, 'fixtures', 'crashing-consumer.js');

/** Runs the fixture consumer until it kills itself; resolves with its output and the signal. */
function runUntilKilled(env: Record<string, string>): Promise<{ signal: NodeJS.Signals | null; output: string }> {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ signal, output });
    }),
  );
}

describe.each([
  ['RabbitMQ', rabbitMqHarness],
  ['Kafka', kafkaHarness],
])('a %s consumer SIGKILLed between commit and acknowledgement', (_broker, makeHarness) => {
  let harness: BrokerHarness;
  let database: ConsumerDatabase;

  beforeAll(async () => {
    harness = makeHarness();
    database = await consumerDatabase(`consumer_crash`);
  });

  afterAll(async () => {
    await harness.close();
    await database.close();
  });

  it('loses nothing and doubles nothing: the broker delivers the message again and the inbox skips it', async () => {
    const destination = await harness.prepare('crash');
    const messages = Array.from({ length: 30 }, (_, i) =>
      relayMessage({ destination: destination.name, key: `order-${i % 5}` }),
    );
    await destination.publish(messages);
    const name = `crash-${harness.broker}`;

    const { signal, output } = await runUntilKilled({
      CONSUMER_NAME: name,
      CONSUMER_DATABASE_URL: database.url,
      CONSUMER_SOURCE: JSON.stringify(destination.source),
      KILL_AFTER: '10',
    });
    expect(signal).toBe('SIGKILL');
    const killedAfter = /killing after (\S+)/.exec(output)?.[1];
    expect(killedAfter).toBeDefined();
    // The tenth event's transaction committed; its message was never acknowledged.
    expect((await database.handledCounts()).get(killedAfter as string)).toBe(1);
    expect((await database.handledCounts()).size).toBe(10);

    // A new instance of the service takes over and gets the unacknowledged messages again.
    const registry = new Registry();
    const consumer = createConsumer({
      name,
      pool: database.pool,
      source: destination.source,
      registry,
      handler: async (event, tx) => {
        await tx.query('insert into handled (event_id, consumer, type, out_of_order) values ($1, $2, $3, false)', [
          event.eventId,
          name,
          event.type,
        ]);
      },
    });
    await consumer.start();
    try {
      await eventually(async () => (await database.handledCounts()).size === messages.length, {
        timeoutMs: 60_000,
        message: () => 'not every event was handled after the crash',
      });
      await eventually(
        async () =>
          (await metricValue(registry, 'orchestron_consumer_events_total', { consumer: name, outcome: 'duplicate' })) >=
          1,
        {
          timeoutMs: 30_000,
          message: () => 'the committed but unacknowledged message did not come back',
        },
      );
    } finally {
      await consumer.stop();
    }
    const counts = await database.handledCounts();
    for (const message of messages) expect(counts.get(message.id)).toBe(1);
  });
});
