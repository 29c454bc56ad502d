import { randomUUID } from 'node:crypto';
import type { Consumer as KafkaJsConsumer, Kafka } from 'kafkajs';
import {
  silentLogger,
  type BrokerLogger,
  type Consumer,
  type ReceivedMessage,
  type Subscription,
} from '@orchestron/broker';
import { createKafka, retryOf } from './client';
import { unavailable } from './errors';
import { fromKafkaMessage } from './marshal';
import type { KafkaBrokerOptions } from './options';

type SubscribeOptions = Parameters<Consumer['subscribe']>[0];
type Handler = (message: ReceivedMessage) => Promise<void> | void;

export interface KafkaConsumerOptions extends KafkaBrokerOptions {
  /** How long `subscribe` waits for the group to assign partitions. Default 30 000. */
  readonly joinTimeoutMs?: number;
  /** Consumer group session timeout. Default 10 000 (kafkajs: 30 000). */
  readonly sessionTimeoutMs?: number;
  /**
   * How long the broker may hold an empty fetch. Stopping waits for the fetch in flight, so
   * this bounds how long `stop` takes. Default 500 (kafkajs: 5 000).
   */
  readonly fetchMaxWaitMs?: number;
}

/**
 * Reads what reached Kafka, for `orchestron tail` and tests. Each subscription is a kafkajs
 * consumer in its own group: the given group (offsets committed, so it resumes where it
 * stopped), or a fresh throwaway one that commits nothing and so leaves nothing behind.
 *
 * Messages are handed to the handler one at a time, in partition order. A handler that
 * throws gets the message skipped (logged), as on RabbitMQ: retrying it in place would
 * block the partition. `subscribe` resolves once the group has assigned the partitions.
 */
export class KafkaConsumer implements Consumer {
  private readonly kafka: Kafka;
  private readonly logger: BrokerLogger;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closing: Promise<void> | null = null;

  constructor(private readonly options: KafkaConsumerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.kafka = createKafka(options);
  }

  /**
   * Joins the group and starts consuming. A fresh broker or a topic created a moment ago
   * answers with retriable errors for a while (the group coordinator is loading, the topic's
   * partitions are not hosted yet): those are retried with a fresh consumer until the join
   * timeout; anything else fails at once.
   */
  async subscribe(options: SubscribeOptions, onMessage: Handler): Promise<Subscription> {
    const deadline = Date.now() + (this.options.joinTimeoutMs ?? 30_000);
    for (;;) {
      try {
        return await this.subscribeOnce(options, onMessage);
      } catch (error) {
        const cause = (error as { cause?: { retriable?: boolean } }).cause;
        if (this.closing || cause?.retriable !== true || Date.now() > deadline) throw error;
        this.logger.debug('subscribe failed with a retriable error; trying again', {
          topic: options.destination,
          error: error instanceof Error ? error.message : String(error),
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async subscribeOnce(options: SubscribeOptions, onMessage: Handler): Promise<Subscription> {
    if (this.closing) throw unavailable('consumer is closed');
    const durable = options.group !== undefined;
    const consumer = this.kafka.consumer({
      groupId: options.group ?? `orchestron-tail-${randomUUID()}`,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      maxWaitTimeInMs: this.options.fetchMaxWaitMs ?? 500,
      // Reading must not create topics.
      allowAutoTopicCreation: false,
      retry: retryOf(this.options),
    });
    const subscription = new KafkaSubscription(consumer, (s) => this.subscriptions.delete(s));
    let join: ReturnType<typeof waitForJoin> | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: options.destination, fromBeginning: options.fromBeginning ?? false });
      join = waitForJoin(consumer, this.options.joinTimeoutMs ?? 30_000);
      await consumer.run({
        autoCommit: durable,
        eachMessage: async ({ topic, partition, message }) => {
          try {
            await onMessage(fromKafkaMessage(message));
          } catch (error) {
            this.logger.error('subscription handler failed; message skipped', {
              topic,
              partition,
              offset: message.offset,
              error: error instanceof Error ? error.message : String(error),
            });
          }
        },
      });
      await join.joined;
    } catch (error) {
      join?.cancel();
      await consumer.disconnect().catch(() => undefined);
      throw unavailable(`could not subscribe to "${options.destination}"`, error);
    }
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Stops every subscription. Idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.allSettled([...this.subscriptions].map((s) => s.stop())).then(() => undefined);
    return this.closing;
  }
}

class KafkaSubscription implements Subscription {
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly consumer: KafkaJsConsumer,
    private readonly onStopped: (subscription: KafkaSubscription) => void,
  ) {}

  /** Leaves the group (committing what was handled, for a named group). */
  stop(): Promise<void> {
    this.stopping ??= this.consumer
      .disconnect()
      .catch(() => undefined)
      .then(() => {
        this.onStopped(this);
      });
    return this.stopping;
  }
}

/**
 * Resolves on the consumer's first GROUP_JOIN; rejects if it crashes or the time runs out.
 * `cancel` removes the listeners and the timer (when subscribing failed before that).
 */
function waitForJoin(consumer: KafkaJsConsumer, timeoutMs: number): { joined: Promise<void>; cancel: () => void } {
  const removers: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  const cancel = (): void => {
    clearTimeout(timer);
    removers.forEach((remove) => remove());
  };
  const joined = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no partitions assigned within ${timeoutMs} ms`)), timeoutMs);
    removers.push(consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    removers.push(consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error)));
  });
  joined.then(cancel, cancel);
  return { joined, cancel };
}
