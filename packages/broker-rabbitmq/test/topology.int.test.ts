import type { Channel } from 'amqplib';
import { testMessage } from '@orchestron/broker/conformance';
import { TcpProxy } from '@orchestron/testing';
import { RabbitMqPublisher, type RabbitMqTopology } from '@orchestron/broker-rabbitmq';
import { amqpUrl } from '@orchestron/testing/services';
import { brokerAddress, uniqueName, urlVia, withChannel } from './support/fixtures';

// The configured topology against the real broker: declared before the first publish and on
// every reconnect, refusals logged while the rest is declared.

const exchanges: string[] = [];
const queues: string[] = [];
const publishers: RabbitMqPublisher[] = [];
const proxies: TcpProxy[] = [];

afterEach(async () => {
  await Promise.all(publishers.splice(0).map((p) => p.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await withChannel(async (channel) => {
    for (const queue of queues.splice(0)) await channel.deleteQueue(queue);
    for (const exchange of exchanges.splice(0)) await channel.deleteExchange(exchange);
  });
});

function names(): { exchange: string; queue: string; other: string } {
  const exchange = uniqueName('topology-test');
  const names = { exchange, queue: `${exchange}.q`, other: `${exchange}.other` };
  exchanges.push(exchange);
  queues.push(names.queue, names.other);
  return names;
}

function logger() {
  return { error: jest.fn(), warn: jest.fn(), info: jest.fn(), debug: jest.fn() };
}

function publisher(topology: RabbitMqTopology, options: { url?: string; logger?: ReturnType<typeof logger> } = {}) {
  const p = new RabbitMqPublisher({ url: amqpUrl(), connectionTimeoutMs: 2_000, topology, ...options });
  publishers.push(p);
  return p;
}

async function depth(queue: string): Promise<number> {
  return (await withChannel((channel) => channel.checkQueue(queue))).messageCount;
}

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the AMQP reply code of a declaration the broker refused, or null. */
async function refusalCode(declare: (channel: Channel) => Promise<unknown>): Promise<number | null> {
  return withChannel(async (channel) => {
    try {
      await declare(channel);
      return null;
    } catch (error) {
      return (error as { code?: number }).code ?? -1;
    }
  });
}

describe('RabbitMqPublisher topology', () => {
  it('declares exchanges, queues with their arguments and bindings on connect, so the first message is routed', async () => {
    const { exchange, queue, other } = names();
    const p = publisher({
      exchanges: [{ name: exchange, type: 'topic', durable: true }],
      queues: [
        { name: queue, deadLetterExchange: '', deadLetterRoutingKey: other, messageTtlMs: 60_000, maxLength: 1_000 },
        { name: other, type: 'quorum' },
      ],
      bindings: [
        { queue, exchange, routingKey: 'conformance.#' },
        { queue: other, exchange, routingKey: '#' },
      ],
    });

    await p.connect();
    const results = await p.publish([testMessage(exchange), testMessage(exchange, { routingKey: 'other.key' })]);

    expect(results).toEqual([{ ok: true }, { ok: true }]);
    expect(await depth(queue)).toBe(1);
    expect(await depth(other)).toBe(2);
    // The arguments are on the queues: declared without them, the broker refuses (406).
    expect(await refusalCode((ch) => ch.assertQueue(queue, { durable: true }))).toBe(406);
    expect(await refusalCode((ch) => ch.assertQueue(other, { durable: true }))).toBe(406);
    expect(
      await refusalCode((ch) =>
        ch.assertQueue(queue, {
          durable: true,
          deadLetterExchange: '',
          deadLetterRoutingKey: other,
          messageTtl: 60_000,
          maxLength: 1_000,
        }),
      ),
    ).toBeNull();
  });

  it('declares the topology again on reconnect, before publishing', async () => {
    const { exchange, queue } = names();
    const { host, port } = brokerAddress();
    const proxy = await TcpProxy.start(host, port);
    proxies.push(proxy);
    const p = publisher(
      {
        exchanges: [{ name: exchange, type: 'topic' }],
        queues: [{ name: queue }],
        bindings: [{ queue, exchange, routingKey: '#' }],
      },
      { url: urlVia(proxy.port) },
    );
    await p.connect();
    // The queue disappears behind the publisher's back (deleted, or lost with a broker)...
    await withChannel((channel) => channel.deleteQueue(queue));
    // ...and the connection drops.
    proxy.dropConnections();
    await waitUntil(() => !p.isHealthy());

    const results = await p.publish([testMessage(exchange)]);

    expect(results).toEqual([{ ok: true }]);
    expect(await depth(queue)).toBe(1);
  });

  it('logs each declaration the broker refuses and declares the rest', async () => {
    const { exchange, queue, other } = names();
    // Exists already with other arguments: declaring it durable is refused.
    await withChannel((channel) => channel.assertQueue(other, { durable: false }));
    const log = logger();
    const p = publisher(
      {
        exchanges: [{ name: exchange, type: 'topic' }],
        queues: [{ name: other }, { name: queue }],
        bindings: [
          { queue: `${queue}.missing`, exchange, routingKey: '#' },
          { queue, exchange, routingKey: '#' },
        ],
      },
      { logger: log },
    );

    await p.connect();

    const refusals = log.error.mock.calls.map(([message, meta]) => `${message as string} ${JSON.stringify(meta)}`);
    expect(refusals).toHaveLength(2);
    expect(refusals[0]).toMatch(new RegExp(`queue "${other}".*PRECONDITION_FAILED`));
    expect(refusals[1]).toMatch(new RegExp(`binding of queue "${queue}.missing".*NOT_FOUND`));
    expect(log.info).toHaveBeenCalledWith('RabbitMQ topology declared', {
      exchanges: 1,
      queues: 2,
      bindings: 2,
      refused: 2,
    });
    await expect(p.publish([testMessage(exchange)])).resolves.toEqual([{ ok: true }]);
    expect(await depth(queue)).toBe(1);
  });

  it('publishes to a declared fanout exchange without declaring it again as a topic exchange', async () => {
    const { exchange, queue } = names();
    const p = publisher({
      exchanges: [{ name: exchange, type: 'fanout' }],
      queues: [{ name: queue }],
      bindings: [{ queue, exchange, routingKey: '' }],
    });

    const results = await p.publish([testMessage(exchange, { routingKey: 'anything' })]);

    expect(results).toEqual([{ ok: true }]);
    expect(await depth(queue)).toBe(1);
  });
});
