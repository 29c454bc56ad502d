import type { Channel, ChannelModel, Options } from 'amqplib';
import type { BrokerLogger } from '@orchestron/broker';
import { isChannelRefusal, unavailable } from './errors';

/**
 * Exchanges, queues and bindings the publisher declares on every connection it opens (relay:
 * `broker.rabbitmq.topology`), so that a queue an operator relies on exists before the first
 * message is published, and again after a broker lost it (a restart without durability, a
 * node replaced).
 */
export interface RabbitMqTopology {
  readonly exchanges?: readonly RabbitMqExchangeSpec[];
  readonly queues?: readonly RabbitMqQueueSpec[];
  readonly bindings?: readonly RabbitMqBindingSpec[];
}

export interface RabbitMqExchangeSpec {
  readonly name: string;
  readonly type: 'topic' | 'direct' | 'fanout' | 'headers';
  /** Default true. */
  readonly durable?: boolean;
}

export interface RabbitMqQueueSpec {
  readonly name: string;
  /** Default classic. */
  readonly type?: 'classic' | 'quorum';
  /** Default true (quorum queues always are). */
  readonly durable?: boolean;
  readonly deadLetterExchange?: string;
  readonly deadLetterRoutingKey?: string;
  readonly messageTtlMs?: number;
  readonly maxLength?: number;
}

export interface RabbitMqBindingSpec {
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
}

export interface DeclaredTopology {
  /** Exchanges declared as specified: the publisher must not declare them again as `topic`. */
  readonly exchanges: ReadonlySet<string>;
  /** How many declarations the broker refused (each logged). */
  readonly refused: number;
}

/**
 * Declares the topology, exchanges first, then queues, then bindings, on a channel of its
 * own. A declaration the broker refuses (say, the queue exists with other arguments, or a
 * binding names a queue that is missing) is logged with the broker's reason and the rest goes
 * on: the operator gets every problem at once, and publishing is not held up by one of them.
 * A connection failure rejects with `BrokerUnavailableError`.
 */
export async function declareTopology(
  connection: ChannelModel,
  topology: RabbitMqTopology,
  logger: BrokerLogger,
): Promise<DeclaredTopology> {
  let channel: Channel | null = null;
  let refused = 0;
  const declare = async (what: string, operation: (channel: Channel) => Promise<unknown>): Promise<boolean> => {
    try {
      channel ??= await openChannel(connection);
      await operation(channel);
      return true;
    } catch (error) {
      if (!isChannelRefusal(error)) throw unavailable(`could not declare ${what}`, error);
      channel = null; // the broker closed it; the next declaration opens another
      refused += 1;
      logger.error(`RabbitMQ refused to declare ${what} of the configured topology`, { error: error.message });
      return false;
    }
  };

  const exchanges = new Set<string>();
  try {
    for (const exchange of topology.exchanges ?? []) {
      const declared = await declare(`exchange "${exchange.name}"`, (ch) =>
        ch.assertExchange(exchange.name, exchange.type, { durable: exchange.durable ?? true }),
      );
      if (declared) exchanges.add(exchange.name);
    }
    for (const queue of topology.queues ?? []) {
      await declare(`queue "${queue.name}"`, (ch) => ch.assertQueue(queue.name, queueOptions(queue)));
    }
    for (const binding of topology.bindings ?? []) {
      await declare(
        `binding of queue "${binding.queue}" to exchange "${binding.exchange}" with "${binding.routingKey}"`,
        (ch) => ch.bindQueue(binding.queue, binding.exchange, binding.routingKey),
      );
    }
  } finally {
    const open = channel as Channel | null;
    await open?.close().catch(() => undefined);
  }
  return { exchanges, refused };
}

/** The arguments RabbitMQ compares when a queue is declared again: keep them stable. */
export function queueOptions(queue: RabbitMqQueueSpec): Options.AssertQueue {
  return {
    durable: queue.type === 'quorum' ? true : (queue.durable ?? true),
    exclusive: false,
    autoDelete: false,
    ...(queue.deadLetterExchange !== undefined ? { deadLetterExchange: queue.deadLetterExchange } : {}),
    ...(queue.deadLetterRoutingKey !== undefined ? { deadLetterRoutingKey: queue.deadLetterRoutingKey } : {}),
    ...(queue.messageTtlMs !== undefined ? { messageTtl: queue.messageTtlMs } : {}),
    ...(queue.maxLength !== undefined ? { maxLength: queue.maxLength } : {}),
    // Classic is the default: no x-queue-type, so a queue declared elsewhere without it matches.
    ...(queue.type === 'quorum' ? { arguments: { 'x-queue-type': 'quorum' } } : {}),
  };
}

/**
 * The exchanges among `destinations` that no binding of the topology takes messages from.
 * Published there, every message comes back unroutable, unless consumers bind queues of
 * their own: relay reports them at start.
 */
export function unboundExchanges(topology: RabbitMqTopology, destinations: Iterable<string>): string[] {
  const bound = new Set((topology.bindings ?? []).map((b) => b.exchange));
  return [...new Set(destinations)].filter((exchange) => !bound.has(exchange));
}

async function openChannel(connection: ChannelModel): Promise<Channel> {
  const channel = await connection.createChannel();
  // A refusal closes the channel with an 'error' event; the failed call reports it.
  channel.on('error', () => undefined);
  return channel;
}
