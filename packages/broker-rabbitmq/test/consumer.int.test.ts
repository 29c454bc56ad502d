import type { ReceivedMessage } from '@orchestron/broker';
import { testMessage } from '@orchestron/broker/conformance';
import { RabbitMqConsumer, RabbitMqPublisher } from '@orchestron/broker-rabbitmq';
import { amqpUrl } from '@orchestron/testing/services';
import { uniqueName, withChannel } from './support/fixtures';

const logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn(), debug: jest.fn() };
let publisher: RabbitMqPublisher;
let consumer: RabbitMqConsumer;
let exchange: string;

beforeEach(() => {
  exchange = uniqueName('consumer-test');
  publisher = new RabbitMqPublisher({ url: amqpUrl() });
  consumer = new RabbitMqConsumer({ url: amqpUrl(), prefetch: 5, logger });
});

afterEach(async () => {
  await consumer.close();
  await publisher.close();
  await withChannel(async (channel) => {
    await channel.deleteQueue(`${exchange}.group`);
    await channel.deleteExchange(exchange);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('RabbitMqConsumer', () => {
  it('hands messages to the handler one at a time, in queue order', async () => {
    const seen: string[] = [];
    let running = 0;
    let maxRunning = 0;
    await consumer.subscribe({ destination: exchange }, async (message) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      seen.push(message.headers['x-seq'] ?? '');
      running -= 1;
    });
    const messages = Array.from({ length: 20 }, (_, i) => testMessage(exchange, { headers: { 'x-seq': String(i) } }));

    await publisher.publish(messages);
    await waitFor(() => seen.length === messages.length);

    expect(seen).toEqual(messages.map((_, i) => String(i)));
    expect(maxRunning).toBe(1);
  });

  it('only receives what matches its binding key', async () => {
    const received: ReceivedMessage[] = [];
    await consumer.subscribe({ destination: exchange, bindingKey: 'orders.*' }, (m) => {
      received.push(m);
    });
    const order = testMessage(exchange, { routingKey: 'orders.created' });
    const other = testMessage(exchange, { routingKey: 'users.created' });
    const bound = testMessage(exchange, { routingKey: 'orders.paid' });

    const results = await publisher.publish([order, other, bound]);

    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    await waitFor(() => received.length === 2);
    expect(received.map((m) => [m.id, m.routingKey])).toEqual([
      [order.id, 'orders.created'],
      [bound.id, 'orders.paid'],
    ]);
  });

  it('drops a message whose handler throws, logs it, and goes on with the next', async () => {
    const received: string[] = [];
    const [bad, good] = [testMessage(exchange), testMessage(exchange)];
    await consumer.subscribe({ destination: exchange, group: `${exchange}.group` }, (m) => {
      if (m.id === bad.id) throw new Error('handler broke');
      received.push(m.id ?? '');
    });

    await publisher.publish([bad, good]);
    await waitFor(() => received.length === 1);

    expect(received).toEqual([good.id]);
    expect(logger.error).toHaveBeenCalledWith(
      'subscription handler failed; message dropped',
      expect.objectContaining({ messageId: bad.id, error: 'handler broke' }),
    );
    const { messageCount } = await withChannel((channel) => channel.checkQueue(`${exchange}.group`));
    expect(messageCount).toBe(0);
  });

  it('keeps a group queue, with what arrived meanwhile, after the subscription stops', async () => {
    const group = `${exchange}.group`;
    const first = await consumer.subscribe({ destination: exchange, group }, () => undefined);
    await first.stop();
    const kept = testMessage(exchange);

    await publisher.publish([kept]);

    const received: ReceivedMessage[] = [];
    await consumer.subscribe({ destination: exchange, group }, (m) => {
      received.push(m);
    });
    await waitFor(() => received.length === 1);
    expect(received[0]?.id).toBe(kept.id);
  });
});
