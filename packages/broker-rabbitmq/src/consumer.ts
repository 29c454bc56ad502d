import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import {
  silentLogger,
  type BrokerLogger,
  type Consumer,
  type ReceivedMessage,
  type Subscription,
} from '@orchestron/broker';
import { isChannelRefusal, unavailable } from './errors';
import { fromAmqpDelivery } from './marshal';
import { DEFAULTS, type RabbitMqBrokerOptions } from './options';
import { openConnection, type SessionSettings } from './session';
import { connectionUrl, redactUrl } from './url';

type SubscribeOptions = Parameters<Consumer['subscribe']>[0];
type Handler = (message: ReceivedMessage) => Promise<void> | void;

/**
 * Reads what reached RabbitMQ, for `orchestron tail` and tests. Each subscription is a
 * channel with its own prefetch and a queue bound to the destination exchange: without a
 * group, a server-named exclusive auto-delete queue that lives as long as the subscription;
 * with a group, a durable queue of that name that keeps collecting messages while nobody
 * reads it (and several subscribers of one group share its messages).
 *
 * Messages are handed to the handler one at a time, in queue order, and acknowledged once it
 * returns. A handler that throws gets the message dropped (nack without requeue, logged):
 * requeueing would redeliver it at once, forever. A lost connection ends the subscriptions
 * (logged); the next `subscribe` connects again.
 */
export class RabbitMqConsumer implements Consumer {
  private readonly settings: SessionSettings;
  private readonly prefetch: number;
  private readonly logger: BrokerLogger;
  private connection: Promise<ChannelModel> | null = null;
  private readonly subscriptions = new Set<RabbitMqSubscription>();
  private closing: Promise<void> | null = null;

  constructor(options: RabbitMqBrokerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.prefetch = options.prefetch ?? DEFAULTS.prefetch;
    this.settings = {
      url: connectionUrl(options.url, options.heartbeatSeconds ?? DEFAULTS.heartbeatSeconds),
      redactedUrl: redactUrl(options.url),
      socketOptions: options.socketOptions ?? {},
      connectionTimeoutMs: options.connectionTimeoutMs ?? DEFAULTS.connectionTimeoutMs,
      confirmTimeoutMs: options.confirmTimeoutMs ?? DEFAULTS.confirmTimeoutMs,
      exchangeType: options.exchangeType ?? 'topic',
      connectionName: options.connectionName ?? DEFAULTS.connectionName,
      logger: this.logger,
    };
  }

  async subscribe(options: SubscribeOptions, onMessage: Handler): Promise<Subscription> {
    if (this.closing) throw unavailable('consumer is closed');
    const connection = await this.connect();
    let channel: Channel;
    try {
      channel = await connection.createChannel();
    } catch (error) {
      throw unavailable('channel could not be opened', error);
    }
    // A refused declaration closes the channel with an error event; the failed call reports it.
    channel.on('error', () => undefined);
    try {
      await channel.prefetch(this.prefetch);
      if (options.destination !== '') {
        await channel.assertExchange(options.destination, this.settings.exchangeType, { durable: true });
      }
      const { queue } = options.group
        ? await channel.assertQueue(options.group, { durable: true })
        : await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      await channel.bindQueue(queue, options.destination, options.bindingKey ?? '#');
      const subscription = new RabbitMqSubscription(channel, queue, onMessage, this.logger, (s) =>
        this.subscriptions.delete(s),
      );
      await subscription.start();
      this.subscriptions.add(subscription);
      return subscription;
    } catch (error) {
      await channel.close().catch(() => undefined);
      // A refusal (say, the group's queue exists with other arguments) is the caller's to fix.
      throw isChannelRefusal(error) ? error : unavailable('subscription failed', error);
    }
  }

  /** Stops every subscription, then closes the connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.subscriptions].map((s) => s.stop()));
      const connection = await this.connection?.catch(() => null);
      await connection?.close().catch(() => undefined);
    })();
    return this.closing;
  }

  private connect(): Promise<ChannelModel> {
    if (!this.connection) {
      const opening = openConnection(this.settings, 'consumer').then((connection) => {
        const lost = (error?: unknown): void => {
          if (this.connection !== opening) return;
          this.connection = null;
          if (!this.closing) {
            this.logger.warn('RabbitMQ consumer connection lost; its subscriptions ended', {
              error: error instanceof Error ? error.message : undefined,
            });
          }
        };
        connection.on('error', lost);
        connection.on('close', lost);
        return connection;
      });
      opening.catch(() => {
        if (this.connection === opening) this.connection = null;
      });
      this.connection = opening;
    }
    return this.connection;
  }
}

class RabbitMqSubscription implements Subscription {
  private consumerTag: string | null = null;
  /** Deliveries are handled one after the other, in queue order. */
  private handling: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly channel: Channel,
    private readonly queue: string,
    private readonly onMessage: Handler,
    private readonly logger: BrokerLogger,
    private readonly onStopped: (subscription: RabbitMqSubscription) => void,
  ) {}

  async start(): Promise<void> {
    const { consumerTag } = await this.channel.consume(this.queue, (delivery) => {
      if (delivery === null) {
        // The broker cancelled the consumer (e.g. the queue was deleted).
        this.logger.warn('RabbitMQ cancelled the subscription', { queue: this.queue });
        return;
      }
      this.handling = this.handling.then(() => this.handle(delivery));
    });
    this.consumerTag = consumerTag;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.consumerTag !== null) await this.channel.cancel(this.consumerTag).catch(() => undefined);
      await this.handling;
      await this.channel.close().catch(() => undefined);
      this.onStopped(this);
    })();
    return this.stopping;
  }

  private async handle(delivery: ConsumeMessage): Promise<void> {
    try {
      await this.onMessage(fromAmqpDelivery(delivery));
    } catch (error) {
      this.logger.error('subscription handler failed; message dropped', {
        queue: this.queue,
        messageId: delivery.properties.messageId as unknown,
        error: error instanceof Error ? error.message : String(error),
      });
      settle(() => this.channel.nack(delivery, false, false));
      return;
    }
    settle(() => this.channel.ack(delivery));
  }
}

/** Ack/nack on a channel that is already gone throws; the broker requeues by itself then. */
function settle(acknowledge: () => void): void {
  try {
    acknowledge();
  } catch {
    // nothing to do: see above
  }
}
