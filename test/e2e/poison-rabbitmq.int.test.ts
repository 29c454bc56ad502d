import type { ReceivedMessage, Subscription } from '@orchestron/broker';
import { RabbitMqConsumer } from '@orchestron/broker-rabbitmq';
import {
  amqpUrl,
  createTestDatabase,
  eventually,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { attemptsOf, outboxRowOf, recordAttempts, retryScheduleProblems } from './attempt-history';
import { postEvents, postMany, signup, uniqueName } from './harness';

// A poison event on RabbitMQ: the only queue bound to the exchange takes user.# events, so an
// order.created event, published mandatory, comes back unroutable each time. The relay
// retries it with growing, jittered delays and dead-letters it with the broker's reason,
// while every other event keeps flowing.

const MAX_RETRIES = 7;
const RETRY_BASE_DELAY_MS = 100;

let database: TestDatabase;
const running: AppProcess[] = [];
let consumer: RabbitMqConsumer | undefined;
let subscription: Subscription | undefined;

beforeAll(async () => {
  database = await createTestDatabase('e2e_poison_rabbitmq');
  await recordAttempts(database.db);
});

afterAll(async () => {
  await subscription?.stop();
  await consumer?.close();
  await Promise.all(running.map((p) => p.kill()));
  await database.drop();
});

const order = {
  type: 'order.created',
  data: { order_id: 'o-1', customer_id: 'c-1', total: 12.5, currency: 'EUR', items: [{ sku: 'sku-1', quantity: 1 }] },
};

describe('a message RabbitMQ cannot route', () => {
  it('is retried with growing delays and dead-lettered with the broker reason, while the other events flow', async () => {
    const exchange = uniqueName('orchestron_poison');
    // Bound before anything is published: user.# only.
    consumer = new RabbitMqConsumer({ url: amqpUrl(), prefetch: 500 });
    const received = new Map<string, ReceivedMessage>();
    subscription = await consumer.subscribe({ destination: exchange, bindingKey: 'user.#' }, (m) => {
      received.set(m.id ?? '', m);
    });
    const ingest = await startApp('ingest', {
      DATABASE_URL: database.url,
      ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
      ORCHESTRON_API_RATE_LIMIT: '0',
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
    });
    running.push(ingest);
    const relay = await startApp('relay', {
      DATABASE_URL: database.url,
      AMQP_URL: amqpUrl(),
      ORCHESTRON_BROKER_TYPE: 'rabbitmq',
      ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
      ORCHESTRON_ROUTING_MAX_RETRIES: String(MAX_RETRIES),
      ORCHESTRON_OUTBOX_RETRY_BASE_DELAY: `${RETRY_BASE_DELAY_MS}ms`,
      ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '200ms',
    });
    running.push(relay);

    // One unroutable event among normal ones, in one batch.
    const response = await postEvents(ingest.url, [
      ...Array.from({ length: 10 }, (_, i) => signup(i)),
      order,
      ...Array.from({ length: 10 }, (_, i) => signup(11 + i)),
    ]);
    expect(response.status).toBe(202);
    const ids = ((await response.json()) as { ids: string[] }).ids;
    const poisonId = ids[10] as string;
    await eventually(async () => (await attemptsOf(database.db, poisonId)).length >= 1, {
      timeoutMs: 30_000,
      message: () => `the unroutable event was never tried:\n${relay.output()}`,
    });

    // Events sent while it is being retried arrive while it is still retrying.
    const later = await postMany(ingest.url, 20, 10, 100);
    const normal = [...ids.filter((id) => id !== poisonId), ...later];
    await eventually(() => normal.every((id) => received.has(id)), {
      timeoutMs: 30_000,
      message: () => `${normal.filter((id) => !received.has(id)).length} normal events missing`,
    });
    expect(await outboxRowOf(database.db, poisonId)).toMatchObject({ status: 'pending' });

    await eventually(async () => (await database.db('dead_letter_queue').where({ event_id: poisonId })).length === 1, {
      timeoutMs: 60_000,
      message: () => `the unroutable event was not dead-lettered:\n${relay.output()}`,
    });
    const dead = await database.db('dead_letter_queue').where({ event_id: poisonId }).first();
    expect(dead).toMatchObject({
      broker: 'rabbitmq',
      destination: exchange,
      routing_key: 'order.created',
      status: 'dead',
      attempts: MAX_RETRIES + 1,
    });
    expect(dead.error).toMatch(/MessageRejectedError: unroutable: .*"order\.created".*312 NO_ROUTE/);

    const history = await attemptsOf(database.db, poisonId);
    expect(history.map((h) => h.attempts)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(history.every((h) => /NO_ROUTE/.test(h.lastError ?? ''))).toBe(true);
    expect(retryScheduleProblems(history, { baseDelayMs: RETRY_BASE_DELAY_MS, maxRetries: MAX_RETRIES })).toEqual([]);

    const statuses = (await database.db('outbox').select('status').count({ n: '*' }).groupBy('status')) as Array<{
      status: string;
      n: string;
    }>;
    expect(Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)]))).toEqual({
      published: normal.length,
      dead: 1,
    });
    expect(received.has(poisonId)).toBe(false);
  });
});
