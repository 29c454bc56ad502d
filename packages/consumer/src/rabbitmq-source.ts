import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type { ConnectionOptions } from 'node:tls';
import { sleep } from './backoff';
import { decodeAmqpMessage } from './decode-amqp';
import { attributesOf, UndecodableMessageError, type OrchestronEvent } from './event';
import { errorMessage } from './logger';
import { KeyedScheduler } from './ordering';
import { untilDeadline, type Source, type SourceContext, type SourceHealth } from './source';

export interface RabbitMqSourceOptions {
  readonly broker: 'rabbitmq';
  /** `amqp://` or `amqps://` URL with credentials and vhost. */
  readonly url: string;
  /** The queue to consume. */
  readonly queue: string;
  /**
   * Unacknowledged deliveries the broker sends ahead (`basic.qos`), the seed's
   * `prefetch_count`. Default 100. Handlers run `concurrency` at a time among them.
   */
  readonly prefetch?: number;
  /**
   * Declare the queue (durable) and bind it to the exchange Orchestron publishes to. Without
   * it the queue must exist. `singleActiveConsumer` declares it with
   * `x-single-active-consumer`, so that of several replicas only one receives at a time (the
   * others stand by): the way to keep every key in order with more than one replica.
   */
  readonly declare?: {
    readonly exchange: string;
    readonly bindingKeys?: readonly string[];
    readonly singleActiveConsumer?: boolean;
    readonly queueType?: 'classic' | 'quorum';
  };
  /** TLS settings for `amqps://`. */
  readonly socketOptions?: ConnectionOptions;
  /** How often the queue depth is read for the lag gauge. Default 5 000; 0: never. */
  readonly lagIntervalMs?: number;
  /** Wait between reconnection attempts after the connection was lost: doubles up to this. Default 10 000. */
  readonly reconnectMaxMs?: number;
}

/** One connection's channels. */
interface Session {
  readonly connection: ChannelModel;
  readonly channel: Channel;
  readonly deadLetters: ConfirmChannel | null;
  consumerTag: string | null;
  /** The connection or channel closed: its deliveries can no longer be acknowledged. */
  closed: boolean;
}

/**
 * Consumes a RabbitMQ queue. Each delivery is decoded, scheduled (at most `concurrency`
 * handlers at once, events of one key one after the other) and acknowledged on its channel
 * only after the processor is done with it (committed, skipped as a duplicate or dead
 * lettered). A lost connection is re-established with backoff; its unacknowledged deliveries
 * come back from the broker, and the inbox skips those that had been committed.
 */
export class RabbitMqSource implements Source {
  private readonly scheduler: KeyedScheduler;
  private session: Session | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private lastError: string | null = null;
  private lagTimer: NodeJS.Timeout | null = null;
  private reconnecting: Promise<void> | null = null;

  constructor(
    private readonly options: RabbitMqSourceOptions,
    private readonly context: SourceContext,
  ) {
    this.scheduler = new KeyedScheduler(context.concurrency);
  }

  async start(): Promise<void> {
    this.session = await this.open();
    const interval = this.options.lagIntervalMs ?? 5_000;
    if (interval > 0) {
      this.lagTimer = setInterval(() => void this.readLag(), interval);
      this.lagTimer.unref();
    }
  }

  async stop(deadline: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.lagTimer) clearInterval(this.lagTimer);
    const session = this.session;
    if (session?.consumerTag) await session.channel.cancel(session.consumerTag).catch(() => undefined);
    const drained = await untilDeadline(Promise.allSettled([...this.inFlight]), deadline);
    if (!drained)
      this.context.logger.warn('stop deadline reached with handlers in flight; their messages will be redelivered');
    await this.reconnecting;
    // The session now (a reconnection may have replaced it); closing its channel forgets it.
    const last = this.session;
    this.session = null;
    // The channel first: its close follows its acks on the wire, and its CloseOk tells that the
    // broker has them. Closing the connection at once lost the last ack in a test.
    await last?.channel.close().catch(() => undefined);
    await last?.connection.close().catch(() => undefined);
  }

  health(): SourceHealth {
    if (this.session) return { ok: true, detail: `consuming ${this.options.queue}` };
    return { ok: false, detail: this.stopped ? 'stopped' : `not connected: ${this.lastError ?? 'connecting'}` };
  }

  async publishDeadLetter(event: OrchestronEvent, error: string): Promise<void> {
    const channel = this.session?.deadLetters;
    const queue = this.context.deadLetterDestination;
    if (!channel || queue === null) throw new Error('RabbitMQ dead-letter channel is not open');
    const headers: Record<string, string> = { ...event.headers };
    for (const [name, value] of Object.entries(attributesOf(event))) headers[`cloudEvents:${name}`] = value;
    headers['x-orchestron-error'] = error.slice(0, 1_000);
    headers['x-orchestron-consumer'] = this.context.consumer;
    channel.sendToQueue(queue, event.dataBytes, {
      persistent: true,
      messageId: event.eventId,
      type: event.type,
      ...(event.datacontenttype !== null ? { contentType: event.datacontenttype } : {}),
      headers,
    });
    await channel.waitForConfirms();
  }

  private async open(): Promise<Session> {
    const connection = await amqp.connect(this.options.url, this.options.socketOptions);
    try {
      const channel = await connection.createChannel();
      await channel.prefetch(this.options.prefetch ?? 100);
      const { declare } = this.options;
      if (declare) {
        await channel.assertExchange(declare.exchange, 'topic', { durable: true });
        const args: Record<string, unknown> = {};
        if (declare.singleActiveConsumer) args['x-single-active-consumer'] = true;
        if (declare.queueType) args['x-queue-type'] = declare.queueType;
        await channel.assertQueue(this.options.queue, { durable: true, arguments: args });
        for (const key of declare.bindingKeys ?? ['#'])
          await channel.bindQueue(this.options.queue, declare.exchange, key);
      }
      let deadLetters: ConfirmChannel | null = null;
      if (this.context.deadLetterDestination !== null) {
        deadLetters = await connection.createConfirmChannel();
        await deadLetters.assertQueue(this.context.deadLetterDestination, { durable: true });
      }
      const session: Session = { connection, channel, deadLetters, consumerTag: null, closed: false };
      connection.on('error', (error: unknown) => (this.lastError = errorMessage(error)));
      connection.on('close', () => this.lost(session));
      channel.on('error', (error: unknown) => (this.lastError = errorMessage(error)));
      channel.on('close', () => this.lost(session));
      const { consumerTag } = await channel.consume(this.options.queue, (delivery) => this.receive(session, delivery));
      session.consumerTag = consumerTag;
      this.lastError = null;
      return session;
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  private receive(session: Session, delivery: ConsumeMessage | null): void {
    if (delivery === null) {
      // The broker cancelled the consumer (the queue was deleted): start over.
      this.lastError = 'the broker cancelled the consumer';
      void session.connection.close().catch(() => undefined);
      return;
    }
    let event: OrchestronEvent;
    try {
      event = decodeAmqpMessage(delivery, this.options.queue);
    } catch (error) {
      if (!(error instanceof UndecodableMessageError)) throw error;
      // Not an Orchestron event: rejected without requeue (to the queue's own dead-letter
      // exchange, if it has one), as it would fail the same way every time.
      this.context.metrics.events.inc({ consumer: this.context.consumer, outcome: 'undecodable' });
      this.context.logger.error('message is not an Orchestron event; rejected', {
        consumer: this.context.consumer,
        queue: this.options.queue,
        messageId: delivery.properties.messageId as unknown,
        error: error.message,
      });
      settle(() => session.channel.nack(delivery, false, false));
      return;
    }
    const task = this.scheduler.push(this.context.orderByKey ? event.key : null, () =>
      this.handle(session, delivery, event),
    );
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async handle(session: Session, delivery: ConsumeMessage, event: OrchestronEvent): Promise<void> {
    const { metrics, consumer } = this.context;
    if (this.context.stopping.aborted || session.closed) {
      // Received but not started before the stop (or on a connection since lost): handed back.
      settle(() => session.channel.nack(delivery, false, true));
      return;
    }
    metrics.inFlight.inc({ consumer });
    try {
      const outcome = await this.context.processor.process(event, this.context.stopping);
      if (outcome !== 'abandoned') settle(() => session.channel.ack(delivery));
    } catch (error) {
      // Not expected (the processor settles every event); handed back rather than lost.
      this.context.logger.error('event processing failed; message requeued', {
        consumer,
        eventId: event.eventId,
        error: errorMessage(error),
      });
      settle(() => session.channel.nack(delivery, false, true));
    } finally {
      metrics.inFlight.dec({ consumer });
    }
  }

  private lost(session: Session): void {
    session.closed = true;
    if (this.session !== session) return;
    this.session = null;
    if (this.stopped) return;
    this.context.logger.warn('RabbitMQ connection lost; reconnecting', {
      consumer: this.context.consumer,
      error: this.lastError,
    });
    this.reconnecting = this.reconnect().finally(() => (this.reconnecting = null));
  }

  private async reconnect(): Promise<void> {
    for (let delay = 200; !this.stopped; delay = Math.min(delay * 2, this.options.reconnectMaxMs ?? 10_000)) {
      if (!(await sleep(delay, this.context.stopping))) return;
      try {
        this.session = await this.open();
        this.context.logger.info('RabbitMQ connection re-established', { consumer: this.context.consumer });
        return;
      } catch (error) {
        this.lastError = errorMessage(error);
      }
    }
  }

  private async readLag(): Promise<void> {
    const session = this.session;
    if (!session) return;
    try {
      const { messageCount } = await session.channel.checkQueue(this.options.queue);
      this.context.metrics.lag.set({ consumer: this.context.consumer, partition: '' }, messageCount);
    } catch {
      // the channel is closing; the next reading will do
    }
  }
}

/** Ack/nack on a channel that is gone throws; the broker then redelivers by itself. */
function settle(acknowledge: () => void): void {
  try {
    acknowledge();
  } catch {
    // see above
  }
}
