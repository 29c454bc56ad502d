import { BrokerUnavailableError, MessageRejectedError, type OutboundMessage } from '@orchestron/broker';
import { testMessage } from '@orchestron/broker/conformance';
import { TcpProxy } from '@orchestron/testing';
import { RabbitMqPublisher } from '@orchestron/broker-rabbitmq';
import { amqpUrl } from '@orchestron/testing/services';
import { brokerAddress, uniqueName, urlVia, withChannel } from './support/fixtures';

/** An exchange with one durable queue bound to `routing.#`; deleted in afterEach. */
async function boundExchange(): Promise<{ exchange: string; queue: string }> {
  const exchange = uniqueName('publisher-test');
  const queue = `${exchange}.q`;
  await withChannel(async (channel) => {
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, exchange, 'routing.#');
  });
  created.push({ exchange, queue });
  return { exchange, queue };
}

function message(exchange: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return testMessage(exchange, { routingKey: 'routing.key', ...overrides });
}

const created: { exchange: string; queue?: string }[] = [];
/** Queues a test bound besides boundExchange's, deleted in afterEach. */
const fullQueues: string[] = [];
const publishers: RabbitMqPublisher[] = [];
const proxies: TcpProxy[] = [];

function publisher(options: Partial<ConstructorParameters<typeof RabbitMqPublisher>[0]> = {}): RabbitMqPublisher {
  const p = new RabbitMqPublisher({ url: amqpUrl(), connectionTimeoutMs: 2_000, ...options });
  publishers.push(p);
  return p;
}

async function proxy(): Promise<TcpProxy> {
  const { host, port } = brokerAddress();
  const p = await TcpProxy.start(host, port);
  proxies.push(p);
  return p;
}

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterEach(async () => {
  await Promise.all(publishers.splice(0).map((p) => p.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  const toDelete = created.splice(0);
  const queues = fullQueues.splice(0);
  await withChannel(async (channel) => {
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const { exchange, queue } of toDelete) {
      if (queue) await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
    }
  });
});

describe('RabbitMqPublisher', () => {
  it('has every confirmed message in its queue by the time publish resolves', async () => {
    const { exchange, queue } = await boundExchange();
    const messages = Array.from({ length: 100 }, () => message(exchange));

    await publisher().publish(messages);

    const { messageCount } = await withChannel((channel) => channel.checkQueue(queue));
    expect(messageCount).toBe(messages.length);
  });

  it('maps the envelope to AMQP properties and CloudEvents headers', async () => {
    const { exchange, queue } = await boundExchange();
    const sent = message(exchange, {
      time: new Date('2025-03-01T12:34:56.789Z'),
      key: 'order-42',
      headers: { 'x-request-id': 'req-9' },
    });

    await publisher().publish([sent]);

    const got = await withChannel((channel) => channel.get(queue, { noAck: true }));
    if (!got) throw new Error('no message in the queue');
    expect(got.fields.routingKey).toBe('routing.key');
    expect(got.properties).toMatchObject({
      messageId: sent.id,
      type: sent.type,
      timestamp: Math.floor(sent.time.getTime() / 1000),
      contentType: 'application/json',
      appId: 'orchestron',
      deliveryMode: 2,
    });
    expect(got.properties.headers).toMatchObject({
      'cloudEvents:specversion': '1.0',
      'cloudEvents:id': sent.id,
      'cloudEvents:type': sent.type,
      'cloudEvents:source': sent.source,
      'cloudEvents:time': '2025-03-01T12:34:56.789Z',
      'cloudEvents:partitionkey': 'order-42',
      'x-request-id': 'req-9',
    });
    expect(got.content.equals(sent.payload)).toBe(true);
  });

  it('publishes an event from before 1970 without an AMQP timestamp, and the next event on the same connection', async () => {
    const { exchange, queue } = await boundExchange();
    const p = publisher();
    const early = message(exchange, { time: new Date('1969-12-31T23:59:59Z') });
    const next = message(exchange, { time: new Date('2026-12-03T10:00:00Z') });

    expect(await p.publish([early])).toEqual([{ ok: true }]);
    expect(await p.publish([next])).toEqual([{ ok: true }]);

    const got = await withChannel(async (channel) => [
      await channel.get(queue, { noAck: true }),
      await channel.get(queue, { noAck: true }),
    ]);
    const [first, second] = got.map((m) => {
      if (!m) throw new Error('a message is missing from the queue');
      return m;
    });
    expect(first?.properties.messageId).toBe(early.id);
    expect(first?.properties.timestamp).toBeUndefined();
    expect(first?.properties.headers?.['cloudEvents:time']).toBe('1969-12-31T23:59:59.000Z');
    expect(second?.properties).toMatchObject({ messageId: next.id, timestamp: Math.floor(next.time.getTime() / 1000) });
  });

  it('settles per message: a nack from a full reject-publish queue rejects that message only, and the connection stays up', async () => {
    const { exchange, queue } = await boundExchange();
    const full = `${exchange}.full`;
    await withChannel(async (channel) => {
      await channel.assertQueue(full, {
        durable: true,
        arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
      });
      await channel.bindQueue(full, exchange, 'routing.full');
    });
    fullQueues.push(full);
    const p = publisher();
    const toFull = (): OutboundMessage => message(exchange, { routingKey: 'routing.full' });
    const batch = [message(exchange), toFull(), message(exchange), toFull(), message(exchange)];

    const results = await p.publish(batch);

    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, true]);
    const refused = results[3] as { ok: false; error: Error };
    expect(refused.error).toBeInstanceOf(MessageRejectedError);
    expect(refused.error).toMatchObject({ reason: 'nacked' });
    expect(refused.error.message).toMatch(/^nacked: .*routing key "routing\.full"/);
    expect(p.isHealthy()).toBe(true);
    // RabbitMQ delivered the nacked message to the queue that took it; the healthy queue
    // (routing.#) has all five, the full one its first.
    const counts = await withChannel(async (channel) => [
      (await channel.checkQueue(queue)).messageCount,
      (await channel.checkQueue(full)).messageCount,
    ]);
    expect(counts).toEqual([5, 1]);
    expect(await p.publish([message(exchange)])).toEqual([{ ok: true }]);
  });

  it('tells apart copies of one event sent to two exchanges when only one of them is routable', async () => {
    const routable = await boundExchange();
    const unbound = uniqueName('publisher-test-unbound');
    created.push({ exchange: unbound });
    const event = message(routable.exchange);
    const copies = [{ ...event, destination: unbound }, event, { ...event, destination: unbound }];

    const results = await publisher().publish(copies);

    expect(results.map((r) => r.ok)).toEqual([false, true, false]);
    const { messageCount } = await withChannel((channel) => channel.checkQueue(routable.queue));
    expect(messageCount).toBe(1);
  });

  it('refuses messages for an exchange that exists with another type, and publishes the rest', async () => {
    const { exchange } = await boundExchange();
    const direct = uniqueName('publisher-test-direct');
    created.push({ exchange: direct });
    await withChannel((channel) => channel.assertExchange(direct, 'direct', { durable: true }));
    const p = publisher();

    const results = await p.publish([message(exchange), message(direct), message(exchange)]);

    expect(results[0]).toEqual({ ok: true });
    expect(results[2]).toEqual({ ok: true });
    const refused = results[1];
    expect(refused && !refused.ok && refused.error).toBeInstanceOf(MessageRejectedError);
    expect(p.isHealthy()).toBe(true);
    await expect(p.publish([message(exchange)])).resolves.toEqual([{ ok: true }]);
  });

  it('rejects a message AMQP cannot carry (over-long content type, oversized headers) and publishes the rest', async () => {
    const { exchange, queue } = await boundExchange();
    const p = publisher();
    const results = await p.publish([
      message(exchange),
      message(exchange, { contentType: `application/json; x="${'a'.repeat(300)}"` }),
      message(exchange, { headers: { big: 'x'.repeat(70_000) } }),
      message(exchange),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, false, true]);
    expect(results[1]).toMatchObject({ ok: false, error: expect.any(MessageRejectedError) });
    expect(p.isHealthy()).toBe(true);
    // The session is intact: later publishes are confirmed as usual.
    expect(await p.publish([message(exchange)])).toEqual([{ ok: true }]);
    await withChannel(async (channel) => {
      expect((await channel.checkQueue(queue)).messageCount).toBe(3);
    });
  });

  it('reconnects on the next publish after the connection is lost', async () => {
    const { exchange, queue } = await boundExchange();
    const via = await proxy();
    const p = publisher({ url: urlVia(via.port) });
    await p.publish([message(exchange)]);

    via.dropConnections();
    await waitUntil(() => !p.isHealthy());
    const results = await p.publish([message(exchange)]);

    expect(results).toEqual([{ ok: true }]);
    expect(p.isHealthy()).toBe(true);
    const { messageCount } = await withChannel((channel) => channel.checkQueue(queue));
    expect(messageCount).toBe(2);
  });

  it('rejects the publishes waiting for confirms with BrokerUnavailableError when the connection drops', async () => {
    const { exchange } = await boundExchange();
    const via = await proxy();
    const p = publisher({ url: urlVia(via.port) });
    await p.connect();
    via.silence(true); // confirms never come back...

    const publishing = p.publish([message(exchange), message(exchange)]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    via.dropConnections(); // ...and then the connection is gone

    await expect(publishing).rejects.toBeInstanceOf(BrokerUnavailableError);
    via.silence(false);
    await expect(p.publish([message(exchange)])).resolves.toEqual([{ ok: true }]);
  });

  it('gives up with BrokerUnavailableError when the broker stops answering, then recovers', async () => {
    const { exchange } = await boundExchange();
    const via = await proxy();
    const p = publisher({ url: urlVia(via.port), confirmTimeoutMs: 500, connectionTimeoutMs: 500 });
    await p.connect();
    via.silence(true);

    const started = Date.now();
    await expect(p.publish([message(exchange)])).rejects.toThrow(/no publisher confirm within 500 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(p.isHealthy()).toBe(false);

    via.silence(false);
    await expect(p.publish([message(exchange)])).resolves.toEqual([{ ok: true }]);
  });

  it('fails fast while backing off after a failed connection attempt', async () => {
    const p = publisher({ url: urlVia(1), reconnectBackoff: { initialMs: 60_000, maxMs: 60_000 } });

    await expect(p.connect()).rejects.toBeInstanceOf(BrokerUnavailableError);
    const started = Date.now();
    await expect(p.publish([message('any')])).rejects.toThrow(/next connection attempt in \d+ ms/);
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('probes with a confirmed message that reaches no queue, and fails the probe while the broker is away', async () => {
    const { queue } = await boundExchange();
    await expect(publisher().probe()).resolves.toBeUndefined();
    const { messageCount } = await withChannel((channel) => channel.checkQueue(queue));
    expect(messageCount).toBe(0);

    const away = publisher({ url: urlVia(1), reconnectBackoff: { initialMs: 60_000, maxMs: 60_000 } });
    await expect(away.probe()).rejects.toBeInstanceOf(BrokerUnavailableError);
  });

  it('never puts the password in its errors', async () => {
    const p = publisher({ url: urlVia(1).replace('guest:guest@', 'guest:s3cret-pw@') });

    const error = await p.connect().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(String((error as Error).message)).not.toContain('s3cret-pw');
    expect(String((error as Error).message)).toContain('***');
  });
});
