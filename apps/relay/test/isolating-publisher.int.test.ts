import {
  BrokerUnavailableError,
  type OutboundMessage,
  type PublishResult,
  type Publisher,
  type ReceivedMessage,
  type Subscription,
} from '@orchestron/broker';
import { RabbitMqConsumer, RabbitMqPublisher } from '@orchestron/broker-rabbitmq';
import { createLogger, createRegistry, relayMetrics } from '@orchestron/observability';
import { amqpUrl, createTestDatabase, eventually, type TestDatabase } from '@orchestron/testing';
import { randomBytes } from 'node:crypto';
import { InstrumentedPublisher } from '../src/instrumented-publisher';
import { IsolatingPublisher } from '../src/isolating-publisher';
import { PublisherDecorator } from '../src/publisher-decorator';
import { batchProcessor } from '../src/process-batch';

// The relay's batch cycle against real Postgres and RabbitMQ, with a fault injected into the
// adapter that only one row triggers: every publish call carrying that row fails as if the
// connection dropped. The row is isolated and dead-lettered; the others are published once.

const ROWS = 20;
const POISON_INDEX = 6;
const MAX_RETRIES = 2;

/** The real adapter, except that any call carrying `poisoned` fails as a whole. */
class OneRowBreaksTheCall extends PublisherDecorator {
  constructor(
    inner: Publisher,
    readonly poisoned: Set<string>,
  ) {
    super(inner);
  }

  override publish(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
    if (messages.some((m) => this.poisoned.has(m.id))) {
      return Promise.reject(new BrokerUnavailableError('RabbitMQ confirm channel closed (injected fault)'));
    }
    return this.inner.publish(messages);
  }
}

let database: TestDatabase;
let consumer: RabbitMqConsumer;
let subscription: Subscription | undefined;
let real: RabbitMqPublisher;

beforeAll(async () => {
  database = await createTestDatabase('relay_isolation');
  consumer = new RabbitMqConsumer({ url: amqpUrl(), prefetch: 100 });
  real = new RabbitMqPublisher({ url: amqpUrl() });
});

afterAll(async () => {
  await subscription?.stop();
  await consumer.close();
  await real.close();
  await database.drop();
});

describe('a row that fails its whole batch while RabbitMQ answers', () => {
  it('is isolated, retried and dead-lettered as its own failure, while the rest of its batch is published once', async () => {
    const exchange = `orchestron_isolation_${randomBytes(4).toString('hex')}`;
    const received: ReceivedMessage[] = [];
    subscription = await consumer.subscribe({ destination: exchange, bindingKey: '#' }, (m) => {
      received.push(m);
    });
    const seeded = (await database.db.raw(
      `with e as (
         insert into events (id, source, type, payload, headers)
         select gen_random_uuid(), 'test', 'test.isolated', jsonb_build_object('n', g), '{}'::jsonb
         from generate_series(1, ?) g
         returning id, (payload ->> 'n')::int as n
       )
       insert into outbox (event_id, broker, destination, routing_key)
       select id, 'rabbitmq', ?, 'test.isolated' from e order by n
       returning event_id`,
      [ROWS, exchange],
    )) as { rows: Array<{ event_id: string }> };
    const eventIds = seeded.rows.map((r) => r.event_id);
    const poisonId = eventIds[POISON_INDEX] as string;

    const registry = createRegistry('relay-test');
    const metrics = relayMetrics(registry);
    const isolated: Array<Record<string, unknown>> = [];
    const publisher = new InstrumentedPublisher(
      new IsolatingPublisher(new OneRowBreaksTheCall(real, new Set([poisonId])), {
        warn: (_message, meta) => isolated.push(meta ?? {}),
      }),
      metrics,
      'rabbitmq',
    );
    const processBatch = batchProcessor({
      db: database.db,
      publisher,
      logger: createLogger({ service: 'test', silent: true }),
      metrics,
      cipher: null,
      settings: {
        broker: 'rabbitmq',
        batchSize: 50,
        maxRetries: MAX_RETRIES,
        retryBaseDelayMs: 10,
        retryMaxDelayMs: 20,
      },
    });

    // The claim loop's job, without its backoff: the failed calls are what it would back off on.
    let failedBatches = 0;
    const pending = async (): Promise<number> =>
      Number(
        ((await database.db('outbox').where({ status: 'pending' }).count({ n: '*' })) as Array<{ n: string }>)[0]?.n,
      );
    const deadline = Date.now() + 30_000;
    while ((await pending()) > 0 && Date.now() < deadline) {
      await processBatch().catch(() => {
        failedBatches += 1;
      });
      await new Promise((resolve) => setTimeout(resolve, 30));
    }

    const dead = await database.db('dead_letter_queue').where({ event_id: poisonId }).first();
    expect(dead).toMatchObject({ attempts: MAX_RETRIES + 1, status: 'dead' });
    expect(dead.error).toMatch(/^MessageRejectedError: isolated: .*injected fault/);
    const others = eventIds.filter((id) => id !== poisonId);
    await eventually(() => others.every((id) => received.some((m) => m.id === id)), {
      timeoutMs: 10_000,
      message: () => `${others.filter((id) => !received.some((m) => m.id === id)).length} rows not received`,
    });
    // Each other row exactly once: the batch was never sent again as a whole.
    expect(received.map((m) => m.id).sort()).toEqual([...others].sort());
    // Every attempt of the poisoned row: one failed call (an outage to the loop), then isolation.
    expect(failedBatches).toBe(MAX_RETRIES + 1);
    expect(isolated.map((i) => i.eventId)).toEqual(Array.from({ length: MAX_RETRIES + 1 }, () => poisonId));
    const rejected = (await registry.getSingleMetric('orchestron_outbox_rejected_total')?.get())?.values ?? [];
    expect(rejected).toEqual([
      expect.objectContaining({ value: MAX_RETRIES + 1, labels: expect.objectContaining({ reason: 'isolated' }) }),
    ]);
  });
});
