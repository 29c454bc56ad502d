import { eventually } from '@orchestron/testing';
import { createConsumer } from '../src';
import { PROJECTION_TABLES_SQL, projectOrder } from '../../../examples/order-projection/src/projection';
import { consumerDatabase, rabbitMqHarness, type BrokerHarness, type ConsumerDatabase } from './harness';
import { relayMessage, replayOf } from './relay-messages';

describe('the order projection example', () => {
  let harness: BrokerHarness;
  let database: ConsumerDatabase;

  beforeAll(async () => {
    harness = rabbitMqHarness();
    database = await consumerDatabase('consumer_example');
    await database.pool.query(PROJECTION_TABLES_SQL);
  });

  afterAll(async () => {
    await harness.close();
    await database.close();
  });

  it("counts each order once in its customer's totals, however often it is delivered", async () => {
    const destination = await harness.prepare('example');
    const orders = [1, 2, 3].map((n) =>
      relayMessage({
        destination: destination.name,
        type: 'order.created',
        key: `order-${n}`,
        data: {
          order_id: `order-${n}`,
          customer_id: 'c1',
          total: 10 * n,
          currency: 'EUR',
          items: [{ sku: 'a', quantity: 1 }],
        },
      }),
    );
    await destination.publish([...orders, ...orders, ...orders.map((order) => replayOf(order))]);
    const consumer = createConsumer({
      name: 'order-projection',
      pool: database.pool,
      source: destination.source,
      handler: projectOrder,
    });
    await consumer.start();
    try {
      await eventually(
        async () => (await database.pool.query('select count(*)::int as n from orchestron_inbox')).rows[0].n === 3,
        { timeoutMs: 30_000, message: () => 'the orders were not handled' },
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await consumer.stop();
    }
    const { rows } = await database.pool.query('select customer_id, orders, total::int as total from customer_totals');
    expect(rows).toEqual([{ customer_id: 'c1', orders: 3, total: 60 }]);
  });
});
