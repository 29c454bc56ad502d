import { uuidv7 } from '@orchestron/db';
import { eventually } from '@orchestron/testing';
import { Registry } from 'prom-client';
import { createConsumer, type ConsumerOptions, type OrchestronConsumer } from '../src';
import { consumerDatabase, metricValue, type BrokerHarness, type ConsumerDatabase } from './harness';
import { relayMessage, replayOf } from './relay-messages';

/** Captures warnings, to check what the consumer reported. */
function recordingLogger(): {
  warnings: { message: string; meta?: Record<string, unknown> }[];
} & ConsumerOptions['logger'] &
  object {
  const warnings: { message: string; meta?: Record<string, unknown> }[] = [];
  return {
    warnings,
    error: () => undefined,
    warn: (message: string, meta?: Record<string, unknown>) => warnings.push({ message, ...(meta ? { meta } : {}) }),
    info: () => undefined,
    debug: () => undefined,
  };
}

/**
 * The behaviour every broker must show, against the real broker and Postgres, with messages
 * published by the relay's own publisher in the relay's own shape.
 */
export function consumerSuite(makeHarness: () => BrokerHarness): void {
  let harness: BrokerHarness;
  let database: ConsumerDatabase;
  const running: OrchestronConsumer[] = [];

  beforeAll(async () => {
    harness = makeHarness();
    database = await consumerDatabase(`consumer_${harness.broker}`);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((consumer) => consumer.stop()));
  });

  afterAll(async () => {
    await harness.close();
    await database.close();
  });

  async function startConsumer(
    overrides: Partial<ConsumerOptions> & Pick<ConsumerOptions, 'name' | 'source'>,
  ): Promise<OrchestronConsumer> {
    const consumer = createConsumer({
      pool: database.pool,
      concurrency: 4,
      retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 100 },
      handler: async (event, tx, context) => {
        await tx.query(
          'insert into handled (event_id, consumer, type, partition_key, out_of_order, replay) values ($1, $2, $3, $4, $5, $6)',
          [event.eventId, overrides.name, event.type, event.key, context.outOfOrder, event.replay],
        );
      },
      ...overrides,
    });
    running.push(consumer);
    await consumer.start();
    return consumer;
  }

  it('changes the handler table exactly once for every message delivered three times (relay re-publish and replay)', async () => {
    const destination = await harness.prepare('thrice');
    const registry = new Registry();
    const originals = Array.from({ length: 40 }, (_, i) =>
      relayMessage({ destination: destination.name, type: 'order.created', key: `order-${i % 8}`, data: { n: i } }),
    );
    // The relay publishes a batch again after a crash (same messages), and an operator's replay
    // publishes them once more with the replay marker.
    await destination.publish(originals);
    await destination.publish(originals);
    await destination.publish(originals.map((message) => replayOf(message)));
    const name = `thrice-${harness.broker}`;
    await startConsumer({ name, source: destination.source, registry });

    await eventually(
      async () =>
        (await metricValue(registry, 'orchestron_consumer_events_total', { consumer: name, outcome: 'duplicate' })) ===
        80,
      {
        timeoutMs: 60_000,
        message: () => 'not every copy was received',
      },
    );
    const counts = await database.handledCounts();
    for (const message of originals) expect(counts.get(message.id)).toBe(1);
    expect(
      await metricValue(registry, 'orchestron_consumer_events_total', { consumer: name, outcome: 'handled' }),
    ).toBe(40);
    const inbox = await database.pool.query('select count(*)::int as n from orchestron_inbox where consumer = $1', [
      name,
    ]);
    expect(inbox.rows[0].n).toBe(40);
  });

  it('sends a poison message to the dead-letter table after its retries while the others keep flowing', async () => {
    const destination = await harness.prepare('poison');
    const registry = new Registry();
    const name = `poison-${harness.broker}`;
    const poison = relayMessage({ destination: destination.name, type: 'order.poison', key: 'order-p' });
    const others = Array.from({ length: 30 }, (_, i) =>
      relayMessage({ destination: destination.name, key: `order-${i}` }),
    );
    await destination.publish([poison, ...others]);
    let poisonAttempts = 0;
    await startConsumer({
      name,
      source: destination.source,
      registry,
      handler: async (event, tx) => {
        if (event.type === 'order.poison') {
          poisonAttempts++;
          throw new Error('cannot project this order');
        }
        await tx.query('insert into handled (event_id, consumer, type, out_of_order) values ($1, $2, $3, false)', [
          event.eventId,
          name,
          event.type,
        ]);
      },
    });

    await eventually(
      async () => (await handledBy(name)).length === others.length && (await deadLetters(name)).length === 1,
      {
        timeoutMs: 60_000,
        message: () => 'the others were not all handled, or the poison message was not dead-lettered',
      },
    );
    const counts = await database.handledCounts();
    for (const message of others) expect(counts.get(message.id)).toBe(1);
    expect(counts.has(poison.id)).toBe(false);
    const [dead] = await deadLetters(name);
    if (!dead) throw new Error('no dead letter');
    expect(dead).toMatchObject({
      event_id: poison.id,
      type: 'order.poison',
      attempts: 3,
      error: 'cannot project this order',
      partition_key: 'order-p',
    });
    expect(JSON.parse(dead.payload.toString())).toEqual({ eventId: poison.id });
    expect(poisonAttempts).toBe(3);
    expect(await metricValue(registry, 'orchestron_consumer_handler_failures_total', { consumer: name })).toBe(3);
    expect(
      await metricValue(registry, 'orchestron_consumer_events_total', { consumer: name, outcome: 'dead_lettered' }),
    ).toBe(1);

    // A later copy of the dead-lettered event is skipped, not tried again.
    await destination.publish([poison]);
    await eventually(
      async () =>
        (await metricValue(registry, 'orchestron_consumer_events_total', { consumer: name, outcome: 'duplicate' })) ===
        1,
      {
        timeoutMs: 30_000,
        message: () => 'the copy of the dead-lettered event was not skipped',
      },
    );
    expect(poisonAttempts).toBe(3);
  });

  it('can send a poison message to a dead-letter queue or topic on the broker instead', async () => {
    const destination = await harness.prepare('poisonq');
    const name = `poisonq-${harness.broker}`;
    const poison = relayMessage({ destination: destination.name, type: 'order.poison' });
    const other = relayMessage({ destination: destination.name });
    await destination.publish([poison, other]);
    await startConsumer({
      name,
      source: destination.source,
      deadLetter: { kind: 'broker', destination: destination.deadLetter },
      handler: async (event, tx) => {
        if (event.type === 'order.poison') throw new Error('no such order');
        await tx.query('insert into handled (event_id, consumer, type, out_of_order) values ($1, $2, $3, false)', [
          event.eventId,
          name,
          event.type,
        ]);
      },
    });
    expect(await destination.readDeadLetters(1)).toEqual([{ eventId: poison.id, error: 'no such order' }]);
    await eventually(async () => (await database.handledCounts()).get(other.id) === 1, {
      timeoutMs: 30_000,
      message: () => 'the other event was not handled',
    });
    // The dead letter is published before the inbox records it (a crash between the two gives
    // a second dead letter, never none): the row may follow the message by a moment.
    const inboxOutcomes = async () =>
      (
        await database.pool.query('select outcome from orchestron_inbox where consumer = $1 and event_id = $2', [
          name,
          poison.id,
        ])
      ).rows;
    await eventually(async () => (await inboxOutcomes()).length > 0, {
      timeoutMs: 10_000,
      message: () => 'the inbox did not record the dead-lettered event',
    });
    expect(await inboxOutcomes()).toEqual([{ outcome: 'dead_lettered' }]);
    expect(await deadLetters(name)).toEqual([]);
  });

  it('reports a keyed event that arrives after a newer one of its key, by metric and log, and flags it to the handler', async () => {
    const destination = await harness.prepare('order');
    const registry = new Registry();
    const logger = recordingLogger();
    const name = `order-${harness.broker}`;
    const first = uuidv7();
    const second = uuidv7();
    const third = uuidv7();
    const key = 'order-77';
    // The second event of the key is published before the first (as after a relay retry
    // without ordering); the third follows in order; another key is unaffected.
    for (const eventId of [second, first, third])
      await destination.publish([relayMessage({ destination: destination.name, key, eventId })]);
    await destination.publish([relayMessage({ destination: destination.name, key: 'order-78' })]);
    await startConsumer({ name, source: destination.source, registry, logger });
    await eventually(async () => (await handledBy(name)).length === 4, {
      timeoutMs: 60_000,
      message: () => 'not all four were handled',
    });
    const rows = await handledBy(name);
    expect(rows.filter((row) => row.partition_key === key).map((row) => [row.event_id, row.out_of_order])).toEqual([
      [second, false],
      [first, true],
      [third, false],
    ]);
    expect(await metricValue(registry, 'orchestron_consumer_out_of_order_total', { consumer: name })).toBe(1);
    expect(logger.warnings).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('out of order'),
        meta: expect.objectContaining({ eventId: first, newerEventId: second, key }),
      }),
    ]);
  });

  it('finishes and acknowledges the handlers in flight when stopped, so nothing comes back', async () => {
    const destination = await harness.prepare('stop');
    const name = `stop-${harness.broker}`;
    const messages = Array.from({ length: 6 }, (_, i) => relayMessage({ destination: destination.name, key: `k${i}` }));
    await destination.publish(messages);
    let started = 0;
    const consumer = await startConsumer({
      name,
      source: destination.source,
      handler: async (event, tx) => {
        started++;
        await new Promise((resolve) => setTimeout(resolve, 300));
        await tx.query('insert into handled (event_id, consumer, type, out_of_order) values ($1, $2, $3, false)', [
          event.eventId,
          name,
          event.type,
        ]);
      },
    });
    await eventually(() => started > 0, { timeoutMs: 30_000, message: () => 'nothing started' });
    await consumer.stop();
    const handledBeforeStop = (await handledBy(name)).map((row) => row.event_id);
    expect(handledBeforeStop.length).toBeGreaterThan(0);
    expect((await consumer.health()).broker.ok).toBe(false);

    // A new consumer gets only what was not acknowledged: no handled event comes back.
    const registry = new Registry();
    await startConsumer({ name, source: destination.source, registry });
    await eventually(async () => (await handledBy(name)).length === messages.length, {
      timeoutMs: 60_000,
      message: () => 'the rest did not arrive',
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(
      await metricValue(registry, 'orchestron_consumer_events_total', { consumer: name, outcome: 'duplicate' }),
    ).toBe(0);
    const counts = await database.handledCounts();
    for (const message of messages) expect(counts.get(message.id)).toBe(1);
  });

  it('passes over a message that is not an Orchestron event, counting it, and goes on with the others', async () => {
    const destination = await harness.prepare('foreign');
    const registry = new Registry();
    const name = `foreign-${harness.broker}`;
    await destination.publishForeign('{"not":"a cloudevent"}');
    const after = relayMessage({ destination: destination.name });
    await destination.publish([after]);
    await startConsumer({ name, source: destination.source, registry });
    await eventually(async () => (await database.handledCounts()).get(after.id) === 1, {
      timeoutMs: 30_000,
      message: () => 'the event after the foreign message was not handled',
    });
    expect(
      await metricValue(registry, 'orchestron_consumer_events_total', { consumer: name, outcome: 'undecodable' }),
    ).toBe(1);
  });

  it('is healthy while connected to the broker and the database', async () => {
    const destination = await harness.prepare('health');
    const consumer = await startConsumer({ name: `health-${harness.broker}`, source: destination.source });
    await eventually(async () => (await consumer.health()).ok, { timeoutMs: 30_000, message: () => 'never healthy' });
    expect(await consumer.health()).toMatchObject({ ok: true, broker: { ok: true }, database: { ok: true } });
  });

  async function deadLetters(consumer: string): Promise<(Record<string, unknown> & { payload: Buffer })[]> {
    const { rows } = await database.pool.query<Record<string, unknown> & { payload: Buffer }>(
      'select * from orchestron_consumer_dead_letters where consumer = $1',
      [consumer],
    );
    return rows;
  }

  async function handledBy(
    consumer: string,
  ): Promise<{ event_id: string; partition_key: string | null; out_of_order: boolean }[]> {
    const { rows } = await database.pool.query('select * from handled where consumer = $1 order by handled_at', [
      consumer,
    ]);
    return rows;
  }
}
