import { amqpUrl, eventually, TcpProxy } from '@orchestron/testing';
import { createConsumer, type RabbitMqSourceOptions } from '../src';
import { consumerDatabase, rabbitMqHarness, type BrokerHarness, type ConsumerDatabase } from './harness';
import { relayMessage } from './relay-messages';

describe('a RabbitMQ consumer whose connection is lost', () => {
  let harness: BrokerHarness;
  let database: ConsumerDatabase;
  let proxy: TcpProxy;

  beforeAll(async () => {
    harness = rabbitMqHarness();
    database = await consumerDatabase('consumer_reconnect');
    const broker = new URL(amqpUrl());
    proxy = await TcpProxy.start(broker.hostname, Number(broker.port || 5672));
  });

  afterAll(async () => {
    await proxy.close();
    await harness.close();
    await database.close();
  });

  it('is unhealthy while the broker is away, reconnects by itself and handles what arrived meanwhile', async () => {
    const destination = await harness.prepare('reconnect');
    const viaProxy = new URL(amqpUrl());
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const source: RabbitMqSourceOptions = {
      ...(destination.source as RabbitMqSourceOptions),
      url: viaProxy.toString(),
      reconnectMaxMs: 500,
    };
    const consumer = createConsumer({
      name: 'reconnect',
      pool: database.pool,
      source,
      handler: async (event, tx) => {
        await tx.query('insert into handled (event_id, consumer, type, out_of_order) values ($1, $2, $3, false)', [
          event.eventId,
          'reconnect',
          event.type,
        ]);
      },
    });
    await consumer.start();
    try {
      const before = relayMessage({ destination: destination.name });
      await destination.publish([before]);
      await eventually(async () => (await database.handledCounts()).get(before.id) === 1, {
        timeoutMs: 30_000,
        message: () => 'first event not handled',
      });

      await proxy.cut();
      await eventually(async () => !(await consumer.health()).broker.ok, {
        timeoutMs: 30_000,
        message: () => 'still healthy without a broker',
      });
      // Published straight to the broker (not through the proxy) while the consumer is cut off.
      const during = relayMessage({ destination: destination.name });
      await destination.publish([during]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await database.handledCounts()).has(during.id)).toBe(false);

      await proxy.restore();
      await eventually(async () => (await database.handledCounts()).get(during.id) === 1, {
        timeoutMs: 30_000,
        message: () => 'the event published during the outage was not handled after the reconnection',
      });
      expect((await consumer.health()).ok).toBe(true);
      expect((await database.handledCounts()).get(before.id)).toBe(1);
    } finally {
      await consumer.stop();
    }
  });
});
