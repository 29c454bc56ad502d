import { connect, type Channel, type ChannelModel, type ConfirmChannel, type Message } from 'amqplib';
import type { ConnectionOptions } from 'node:tls';
import {
  BrokerUnavailableError,
  MessageRejectedError,
  type BrokerLogger,
  type OutboundMessage,
  type PublishResult,
} from '@orchestron/broker';
import { isChannelRefusal, unavailable } from './errors';
import { APP_ID, toAmqpPublish, unpublishableReason, type AmqpPublish } from './marshal';

/** The probe's routing key on the default exchange: the name of a queue nobody declares. */
const PROBE_ROUTING_KEY = 'orchestron.relay-probe.routed-nowhere';
import { ReturnCorrelator } from './returns';
import { declareTopology, type RabbitMqTopology } from './topology';

export interface SessionSettings {
  /** With the heartbeat applied. */
  readonly url: string;
  /** For logs and errors. */
  readonly redactedUrl: string;
  readonly socketOptions: ConnectionOptions;
  readonly connectionTimeoutMs: number;
  readonly confirmTimeoutMs: number;
  readonly exchangeType: 'topic';
  readonly connectionName: string;
  readonly logger: BrokerLogger;
  /** Publisher: declared on every connection it opens, before the first publish. */
  readonly topology?: RabbitMqTopology;
}

/** How one message's publish ended; never a rejected promise (see `publishOne`). */
type Outcome = { readonly result: PublishResult } | { readonly failure: BrokerUnavailableError };

/**
 * The AMQP publish of one message, or why it cannot be sent: building it (marshal.ts) and
 * checking it never throws out of a batch.
 */
function buildPublish(message: OutboundMessage): { publish: AmqpPublish } | { rejection: MessageRejectedError } {
  try {
    const publish = toAmqpPublish(message);
    const reason = unpublishableReason(publish);
    if (reason === null) return { publish };
    return { rejection: new MessageRejectedError(`cannot be sent over AMQP: ${reason}`, { reason: 'unbuildable' }) };
  } catch (error) {
    return {
      rejection: new MessageRejectedError(`cannot be sent over AMQP: ${(error as Error).message}`, {
        cause: error,
        reason: 'unbuildable',
      }),
    };
  }
}

/** Open an AMQP connection with the timeouts and TLS options of `settings`. */
export async function openConnection(settings: SessionSettings, role: string): Promise<ChannelModel> {
  try {
    return await connect(settings.url, {
      ...settings.socketOptions,
      // amqplib applies `timeout` to TCP connect + TLS + AMQP handshake, then clears it.
      timeout: settings.connectionTimeoutMs,
      noDelay: true,
      clientProperties: { connection_name: `${settings.connectionName} ${role}` },
    });
  } catch (error) {
    throw unavailable(`connection to ${settings.redactedUrl} failed`, error);
  }
}

/**
 * One AMQP connection of the publisher: a confirm channel for messages and a separate plain
 * channel for declaring exchanges. They are separate because a refused declaration (say,
 * the exchange exists with another type) closes the channel it ran on, and that must not
 * fail the publishes of other calls waiting for confirms.
 *
 * A session is used until it breaks (connection or confirm channel closed, confirm
 * timeout); then every message still waiting fails with `BrokerUnavailableError` and the
 * publisher opens a new session on its next call. A nack is not a break: it is that one
 * message's `MessageRejectedError` (reason `nacked`), and the confirmed ones are `ok`.
 */
export class PublisherSession {
  static async open(settings: SessionSettings): Promise<PublisherSession> {
    const connection = await openConnection(settings, 'publisher');
    // Until the session's own listeners are attached: an unheard 'error' would crash.
    const ignore = (): void => undefined;
    connection.on('error', ignore);
    let session: PublisherSession;
    try {
      const confirms = await connection.createConfirmChannel();
      connection.off('error', ignore);
      session = new PublisherSession(connection, confirms, settings);
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw unavailable('confirm channel could not be opened', error);
    }
    if (settings.topology) {
      try {
        await session.declareTopology(settings.topology);
      } catch (error) {
        await session.close();
        throw error;
      }
    }
    return session;
  }

  private broken: BrokerUnavailableError | null = null;
  private connectionClosed = false;
  private closedByUs = false;
  private blockedReason: string | null = null;
  private topology: Promise<Channel> | null = null;
  /** Exchanges declared on this connection. Only successes are kept: a refusal is retried. */
  private readonly exchanges = new Map<string, Promise<void>>();
  private readonly returns = new ReturnCorrelator();
  private readonly onBreak = new Set<() => void>();

  private constructor(
    private readonly connection: ChannelModel,
    private readonly confirms: ConfirmChannel,
    private readonly settings: SessionSettings,
  ) {
    // Without 'error' listeners an emitted error would crash the process.
    connection.on('error', (error: unknown) => this.markBroken('connection error', error));
    connection.on('close', (error: unknown) => {
      this.connectionClosed = true;
      this.markBroken('connection closed', error);
    });
    connection.on('blocked', (reason: unknown) => {
      this.blockedReason = String(reason);
      settings.logger.warn('RabbitMQ blocked publishing on this connection', { reason: this.blockedReason });
    });
    connection.on('unblocked', () => {
      this.blockedReason = null;
      settings.logger.info('RabbitMQ unblocked publishing on this connection');
    });
    confirms.on('error', (error: unknown) => this.markBroken('confirm channel error', error));
    // Before amqplib's own 'close' listener, which fails every unconfirmed message: their
    // callbacks must see the session broken, or a lost channel would read as nacks.
    confirms.prependListener('close', () => this.markBroken('confirm channel closed'));
    confirms.on('return', (message: Message) => this.onReturn(message));
  }

  /** Connected, and the broker has not blocked publishing (resource alarm). */
  get usable(): boolean {
    return this.broken === null && this.blockedReason === null;
  }

  /** Lost for good; the publisher opens a new session. */
  get isBroken(): boolean {
    return this.broken !== null;
  }

  /** Why a session that is not usable cannot be used, as the error a publish rejects with. */
  unusableReason(): BrokerUnavailableError | null {
    if (this.broken) return this.broken;
    if (this.blockedReason !== null) {
      return new BrokerUnavailableError(`RabbitMQ blocked publishing (resource alarm): ${this.blockedReason}`);
    }
    return null;
  }

  async publish(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
    const unusable = this.unusableReason();
    if (unusable) throw unusable;

    // Bounds the whole call (declarations, write-buffer waits, confirms): a broker that
    // stops answering must not hold relay's batch forever. The session is dropped, since
    // confirms that might still come can no longer be trusted.
    const timer = setTimeout(
      () => this.markBroken(`no publisher confirm within ${this.settings.confirmTimeoutMs} ms`),
      this.settings.confirmTimeoutMs,
    );
    const work = this.publishAll(messages);
    work.catch(() => undefined); // settled below, or abandoned once the session broke
    const broken = this.whenBroken();
    try {
      // Once the session breaks, amqplib fails waiting confirms only when the socket really
      // closes, which a silent broker may delay: answer the caller now.
      return await Promise.race([work, broken.promise]);
    } finally {
      clearTimeout(timer);
      broken.cancel();
    }
  }

  /**
   * Publishes an empty message to the default exchange with a routing key no queue has (not
   * mandatory: RabbitMQ drops it and confirms it) and waits for its confirm: the connection,
   * the confirm channel and the broker's publishing path all work. No confirm within
   * `confirmTimeoutMs` breaks the session, as for `publish`.
   */
  async probe(): Promise<void> {
    const unusable = this.unusableReason();
    if (unusable) throw unusable;
    const broken = this.whenBroken();
    const confirmed = new Promise<void>((resolve, reject) => {
      try {
        this.confirms.publish('', PROBE_ROUTING_KEY, Buffer.alloc(0), { appId: APP_ID }, (error: unknown) => {
          if (error) reject(this.broken ?? unavailable('nacked the probe message', error));
          else resolve();
        });
      } catch (error) {
        this.markBroken('could not publish the probe message', error);
        reject(this.broken ?? unavailable('channel closed', error));
      }
    });
    confirmed.catch(() => undefined);
    const timer = setTimeout(
      () => this.markBroken(`no confirm of the probe message within ${this.settings.confirmTimeoutMs} ms`),
      this.settings.confirmTimeoutMs,
    );
    try {
      await Promise.race([confirmed, broken.promise]);
    } finally {
      clearTimeout(timer);
      broken.cancel();
    }
  }

  /** Declares the configured topology on this connection (see topology.ts). */
  private async declareTopology(topology: RabbitMqTopology): Promise<void> {
    const declared = await declareTopology(this.connection, topology, this.settings.logger);
    // Declared with their configured type: asserting them again as `topic` would be refused.
    for (const name of declared.exchanges) this.exchanges.set(name, Promise.resolve());
    this.settings.logger.info('RabbitMQ topology declared', {
      exchanges: topology.exchanges?.length ?? 0,
      queues: topology.queues?.length ?? 0,
      bindings: topology.bindings?.length ?? 0,
      refused: declared.refused,
    });
  }

  /** Close gracefully (in-flight calls should have finished); never rejects, never hangs. */
  async close(): Promise<void> {
    this.closedByUs = true;
    this.markBroken('publisher closed');
    await this.shutdownConnection();
  }

  private async publishAll(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
    // Every message is built (and its encoding tried) before the first is sent: a message
    // that cannot be sent is its own rejection, and the others go out.
    const built = messages.map(buildPublish);
    const refused = await this.declareExchanges(built.flatMap((b) => ('publish' in b ? [b.publish.exchange] : [])));
    const outcomes: Promise<Outcome>[] = [];
    for (const entry of built) {
      if (this.broken) break;
      if ('rejection' in entry) {
        outcomes.push(Promise.resolve({ result: { ok: false, error: entry.rejection } }));
        continue;
      }
      const refusal = refused.get(entry.publish.exchange);
      if (refusal) {
        outcomes.push(Promise.resolve({ result: { ok: false, error: refusal } }));
        continue;
      }
      const { outcome, writable } = this.publishOne(entry.publish);
      outcomes.push(outcome);
      // The socket's buffer is full: wait until it drains instead of buffering a whole
      // large batch in memory.
      if (!writable) await this.drained();
    }
    const settled = await Promise.all(outcomes);
    if (this.broken) throw this.broken;
    const failed = settled.find((o): o is { failure: BrokerUnavailableError } => 'failure' in o);
    if (failed) throw failed.failure;
    return settled.map((o) => (o as { result: PublishResult }).result);
  }

  /** A promise that rejects with the session's error when it breaks; cancel when done. */
  private whenBroken(): { promise: Promise<never>; cancel: () => void } {
    let notify = (): void => undefined;
    const promise = new Promise<never>((_, reject) => {
      notify = () => reject(this.broken ?? unavailable('connection lost'));
    });
    promise.catch(() => undefined);
    this.onBreak.add(notify);
    if (this.broken) notify();
    return { promise, cancel: () => this.onBreak.delete(notify) };
  }

  /**
   * Publish one message; the outcome resolves on its confirm. It never rejects: outcomes are
   * collected while the loop may still wait for 'drain', and a rejection nobody awaits yet
   * would be reported as unhandled.
   */
  private publishOne(publish: AmqpPublish): { outcome: Promise<Outcome>; writable: boolean } {
    const { exchange, routingKey, content, options } = publish;
    const ticket = this.returns.expect(exchange, routingKey, options.messageId);
    let writable = true;
    const outcome = new Promise<Outcome>((resolve) => {
      try {
        writable = this.confirms.publish(exchange, routingKey, content, options, (error: unknown) => {
          const returnedBecause = this.returns.settle(ticket);
          if (error && this.broken) {
            resolve({ failure: this.broken });
          } else if (error) {
            // A nack on a working channel: the broker refused to store this message (a full
            // queue with x-overflow reject-publish, a queue that is down). It is this message's
            // failure; the others of the call stand on their own confirms. Queues that did take
            // it keep their copy, so each retry can deliver it to them again.
            resolve({
              result: {
                ok: false,
                error: new MessageRejectedError(
                  `nacked: RabbitMQ did not store the message for exchange "${exchange}", routing key "${routingKey}" (a queue it routes to refuses it, e.g. full with x-overflow reject-publish)`,
                  { cause: error, reason: 'nacked' },
                ),
              },
            });
          } else if (returnedBecause !== null) {
            resolve({
              result: {
                ok: false,
                error: new MessageRejectedError(
                  `unroutable: exchange "${exchange}" has no queue bound for routing key "${routingKey}" (${returnedBecause})`,
                  { reason: 'unroutable' },
                ),
              },
            });
          } else {
            resolve({ result: { ok: true } });
          }
        });
      } catch (error) {
        // amqplib throws synchronously when the channel is already closed, or when it cannot
        // encode the message; in the second case it has already queued a confirm slot for it,
        // so the channel's confirms are out of step: drop the session, a new one starts clean.
        this.returns.settle(ticket);
        this.markBroken('could not publish on the confirm channel', error);
        resolve({ failure: this.broken ?? unavailable('channel closed', error) });
      }
    });
    return { outcome, writable };
  }

  private onReturn(message: Message): void {
    const fields = message.fields as unknown as Record<string, unknown>;
    const reason = `${String(fields.replyCode)} ${String(fields.replyText)}`;
    const matched = this.returns.returned(
      message.fields.exchange,
      message.fields.routingKey,
      String(message.properties.messageId),
      reason,
    );
    if (!matched) {
      this.settings.logger.debug('RabbitMQ returned a message no call is waiting for', {
        exchange: message.fields.exchange,
        routingKey: message.fields.routingKey,
      });
    }
  }

  /** Resolves on 'drain', or when the session breaks (then the publish loop stops). */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.confirms.off('drain', done);
        this.onBreak.delete(done);
        resolve();
      };
      this.confirms.on('drain', done);
      this.onBreak.add(done);
    });
  }

  /**
   * Declare each destination exchange once per connection (sequentially: new destinations
   * are rare, and a refusal closes the declaring channel under any concurrent declaration).
   * Returns the destinations the broker refused; connection trouble throws.
   */
  private async declareExchanges(exchanges: readonly string[]): Promise<Map<string, MessageRejectedError>> {
    const refused = new Map<string, MessageRejectedError>();
    for (const destination of new Set(exchanges)) {
      // '' is the default exchange: always there, and declaring it is not allowed.
      if (destination === '') continue;
      try {
        await this.declareExchange(destination);
      } catch (error) {
        if (error instanceof MessageRejectedError) refused.set(destination, error);
        else throw error;
      }
    }
    return refused;
  }

  private declareExchange(name: string): Promise<void> {
    let declared = this.exchanges.get(name);
    if (!declared) {
      declared = this.assertExchange(name);
      this.exchanges.set(name, declared);
      declared.catch(() => this.exchanges.delete(name));
    }
    return declared;
  }

  private async assertExchange(name: string): Promise<void> {
    const channel = await this.topologyChannel();
    try {
      await channel.assertExchange(name, this.settings.exchangeType, { durable: true });
    } catch (error) {
      if (isChannelRefusal(error)) {
        // The broker closed that channel; the next declaration opens a new one.
        this.topology = null;
        this.settings.logger.warn('RabbitMQ refused to declare the exchange', {
          exchange: name,
          error: error.message,
        });
        throw new MessageRejectedError(`exchange "${name}" cannot be declared: ${error.message}`, {
          cause: error,
        });
      }
      throw this.broken ?? unavailable(`could not declare exchange "${name}"`, error);
    }
  }

  private topologyChannel(): Promise<Channel> {
    if (!this.topology) {
      const opening = this.connection.createChannel().then((channel) => {
        channel.on('error', () => undefined); // a refusal; reported by the failed declaration
        channel.on('close', () => {
          if (this.topology === opening) this.topology = null;
        });
        return channel;
      });
      opening.catch(() => {
        if (this.topology === opening) this.topology = null;
      });
      this.topology = opening;
    }
    return this.topology.catch((error: unknown) => {
      throw this.broken ?? unavailable('channel could not be opened', error);
    });
  }

  private markBroken(context: string, cause?: unknown): void {
    if (this.broken) return;
    this.broken = unavailable(context, cause);
    if (!this.closedByUs) {
      this.settings.logger.warn('RabbitMQ publisher connection lost', { error: this.broken.message });
      void this.shutdownConnection();
    }
    for (const notify of [...this.onBreak]) notify();
  }

  /**
   * Close the connection (and with it the channels; amqplib then fails every unconfirmed
   * message's callback). A broker that does not answer the close within the connection
   * timeout gets its socket dropped, so nothing lingers.
   */
  private async shutdownConnection(): Promise<void> {
    if (this.connectionClosed) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.settings.connectionTimeoutMs);
      timer.unref(); // never what keeps a process alive
    });
    await Promise.race([this.connection.close().catch(() => undefined), deadline]);
    clearTimeout(timer);
    destroySocket(this.connection);
  }
}

/**
 * amqplib keeps the socket as `connection.stream` (not in its types, hence the cast). It is
 * destroyed *with an error*: amqplib only notices 'error' and 'end', and without either it
 * would keep the connection's heartbeat timer running for minutes.
 */
function destroySocket(model: ChannelModel): void {
  const stream = (model.connection as unknown as { stream?: { destroyed?: boolean; destroy(error?: Error): void } })
    .stream;
  if (stream && !stream.destroyed) stream.destroy(new Error('connection abandoned: the broker did not answer'));
}
