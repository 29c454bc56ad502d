import {
  amqpUrl,
  createTestDatabase,
  eventually,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { consumeRabbitMq, postEvents, signup, uniqueName, type Received } from '../e2e/harness';
import { AmqpAdmin, outboxByStatus } from '../e2e/relay-harness';

// A queue that fills up and rejects publishes (x-max-length + x-overflow: reject-publish),
// bound to some routing keys of an exchange, next to a healthy queue bound to all of them:
// RabbitMQ nacks what it routes to the full queue, and still delivers it to the healthy one.
// The relay settles per message: the events the broker confirmed are published once, the
// nacked ones are retried and dead-lettered (docs/architecture.md, "What the relay does with
// an unpublishable row"), and other destinations keep flowing all along.

const MAX_RETRIES = 3;
const FULL_QUEUE_LENGTH = 3;
const ROUNDS = 6;
const SIGNUPS_PER_ROUND = 5;
const ORDERS_PER_ROUND = 2;
/** How long a signup may take from 202 to the consumer ("without delay", on a busy CI machine). */
const DELIVERY_BOUND_MS = 10_000;

let database: TestDatabase;
let admin: AmqpAdmin;
const running: AppProcess[] = [];
const consumers: Received[] = [];
let fullQueue = '';

beforeAll(async () => {
  database = await createTestDatabase('chaos_full_queue');
  admin = await AmqpAdmin.open();
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()));
  await Promise.all(consumers.map((c) => c.close()));
  if (fullQueue) await admin.deleteQueue(fullQueue).catch(() => undefined);
  await admin.close();
  await database.drop();
});

const order = (n: number) => ({
  type: 'order.created',
  data: {
    order_id: `o-${n}`,
    customer_id: 'c-1',
    total: 12.5,
    currency: 'EUR',
    items: [{ sku: 'sku-1', quantity: 1 }],
  },
});

function copiesById(received: Received): Map<string, number> {
  const copies = new Map<string, number>();
  for (const id of received.ids()) copies.set(id, (copies.get(id) ?? 0) + 1);
  return copies;
}

describe('a full reject-publish queue next to a healthy one', () => {
  it('publishes what the broker confirmed once, dead-letters what it keeps nacking, and other destinations keep flowing', async () => {
    const exchange = uniqueName('orchestron_chaos_full');
    const other = uniqueName('orchestron_chaos_other');
    await admin.assertExchange(exchange);
    fullQueue = `${exchange}.orders`;
    await admin.boundQueue(fullQueue, exchange, 'order.*', {
      'x-max-length': FULL_QUEUE_LENGTH,
      'x-overflow': 'reject-publish',
    });
    const healthy = await consumeRabbitMq(exchange);
    const otherDestination = await consumeRabbitMq(other);
    consumers.push(healthy, otherDestination);

    const env = {
      DATABASE_URL: database.url,
      AMQP_URL: amqpUrl(),
      ORCHESTRON_BROKER_TYPE: 'rabbitmq',
      ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
      // Signups also go to a second exchange: a destination the full queue has nothing to do with.
      ORCHESTRON_ROUTING_RULES: JSON.stringify([
        {
          match: { type: 'user.*' },
          destinations: [
            { broker: 'rabbitmq', exchange },
            { broker: 'rabbitmq', exchange: other },
          ],
        },
      ]),
    };
    const ingest = await startApp('ingest', {
      ...env,
      ORCHESTRON_API_RATE_LIMIT: '0',
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
    });
    running.push(ingest);
    const relay = await startApp('relay', {
      ...env,
      ORCHESTRON_ROUTING_MAX_RETRIES: String(MAX_RETRIES),
      ORCHESTRON_OUTBOX_RETRY_BASE_DELAY: '200ms',
      ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '200ms',
    });
    running.push(relay);

    const signupIds: string[] = [];
    const orderIds: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Signups and orders in one request: one transaction, mostly one claimed batch.
      const body = [
        ...Array.from({ length: SIGNUPS_PER_ROUND }, (_, i) => signup(round * 100 + i)),
        ...Array.from({ length: ORDERS_PER_ROUND }, (_, i) => order(round * 100 + i)),
      ];
      const response = await postEvents(ingest.url, body);
      expect(response.status).toBe(202);
      const ids = ((await response.json()) as { ids: string[] }).ids;
      const signups = ids.slice(0, SIGNUPS_PER_ROUND);
      signupIds.push(...signups);
      orderIds.push(...ids.slice(SIGNUPS_PER_ROUND));
      const started = Date.now();
      await eventually(
        () => signups.every((id) => healthy.distinctIds().has(id) && otherDestination.distinctIds().has(id)),
        {
          timeoutMs: DELIVERY_BOUND_MS,
          message: () => `round ${round}: signups not delivered within ${DELIVERY_BOUND_MS} ms:\n${relay.output()}`,
        },
      );
      expect(Date.now() - started).toBeLessThan(DELIVERY_BOUND_MS);
    }

    const nackedCount = orderIds.length - FULL_QUEUE_LENGTH;
    await eventually(async () => (await outboxByStatus(database.db)).dead === nackedCount, {
      timeoutMs: 60_000,
      message: () => `expected ${nackedCount} dead-lettered orders:\n${relay.output()}`,
    });

    // Every signup reached both destinations exactly once: no batch was sent again.
    const healthyCopies = copiesById(healthy);
    const otherCopies = copiesById(otherDestination);
    expect(signupIds.filter((id) => healthyCopies.get(id) !== 1 || otherCopies.get(id) !== 1)).toEqual([]);

    // The full queue took the first orders and nothing more; the others were nacked on every
    // attempt and dead-lettered with the broker's refusal.
    expect(await admin.messageCount(fullQueue)).toBe(FULL_QUEUE_LENGTH);
    const dead = (await database.db('dead_letter_queue').select('event_id', 'attempts', 'error')) as Array<{
      event_id: string;
      attempts: number;
      error: string;
    }>;
    expect(dead).toHaveLength(nackedCount);
    for (const letter of dead) {
      expect(orderIds).toContain(letter.event_id);
      expect(letter.attempts).toBe(MAX_RETRIES + 1);
      expect(letter.error).toMatch(/^MessageRejectedError: nacked: .*routing key "order\.created"/);
    }
    // RabbitMQ delivers a nacked message to the queues that took it: one copy per attempt.
    const copiesOutOfBounds = dead
      .map((d) => ({ id: d.event_id, copies: healthyCopies.get(d.event_id) ?? 0 }))
      .filter(({ copies }) => copies < 1 || copies > MAX_RETRIES + 1);
    expect(copiesOutOfBounds).toEqual([]);
    const deadIds = new Set(dead.map((d) => d.event_id));
    expect(orderIds.filter((id) => !deadIds.has(id) && healthyCopies.get(id) !== 1)).toEqual([]);
    expect(await outboxByStatus(database.db)).toEqual({
      published: signupIds.length * 2 + FULL_QUEUE_LENGTH,
      dead: nackedCount,
    });
  });
});
