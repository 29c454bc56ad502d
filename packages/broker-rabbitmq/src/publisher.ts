import {
  BrokerUnavailableError,
  silentLogger,
  type BrokerLogger,
  type OutboundMessage,
  type PublishResult,
  type Publisher,
} from '@orchestron/broker';
import { reconnectDelay } from './backoff';
import { DEFAULTS, type RabbitMqBrokerOptions } from './options';
import { PublisherSession, type SessionSettings } from './session';
import { connectionUrl, redactUrl } from './url';

/**
 * Publishes through a confirm channel to durable topic exchanges (one per destination,
 * declared once per connection) with persistent, mandatory messages: a message is `ok` once
 * RabbitMQ confirmed it, and an unroutable one comes back as a `MessageRejectedError`.
 *
 * Connection handling: the connection is opened on `connect()` or the first `publish`. When
 * it is lost, the calls waiting for confirms reject with `BrokerUnavailableError` and the
 * next call opens a new one at once. When opening fails, further attempts wait a backoff
 * (doubling, jittered; `reconnectBackoff`) and calls made meanwhile fail fast with
 * `BrokerUnavailableError`, so many relay loops do not hammer a broker that is down.
 *
 * Every connection declares the configured `topology` before it publishes (topology.ts), so
 * queues and bindings are back after a broker lost them.
 */
export class RabbitMqPublisher implements Publisher {
  private readonly settings: SessionSettings;
  private readonly logger: BrokerLogger;
  private readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  private session: PublisherSession | null = null;
  private opening: Promise<PublisherSession> | null = null;
  private failedAttempts = 0;
  private nextAttemptAt = 0;
  private lastFailure: unknown = null;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;

  constructor(options: RabbitMqBrokerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.settings = {
      url: connectionUrl(options.url, options.heartbeatSeconds ?? DEFAULTS.heartbeatSeconds),
      redactedUrl: redactUrl(options.url),
      socketOptions: options.socketOptions ?? {},
      connectionTimeoutMs: options.connectionTimeoutMs ?? DEFAULTS.connectionTimeoutMs,
      confirmTimeoutMs: options.confirmTimeoutMs ?? DEFAULTS.confirmTimeoutMs,
      exchangeType: options.exchangeType ?? 'topic',
      connectionName: options.connectionName ?? DEFAULTS.connectionName,
      logger: this.logger,
      ...(options.topology ? { topology: options.topology } : {}),
    };
    this.backoff = {
      initialMs: options.reconnectBackoff?.initialMs ?? DEFAULTS.reconnectInitialMs,
      maxMs: options.reconnectBackoff?.maxMs ?? DEFAULTS.reconnectMaxMs,
    };
  }

  async connect(): Promise<void> {
    if (this.closing) throw closedError();
    await this.track(this.currentSession());
  }

  publish(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
    if (this.closing) return Promise.reject(closedError());
    if (messages.length === 0) return Promise.resolve([]);
    return this.track(this.currentSession().then((session) => session.publish(messages)));
  }

  /** A confirmed empty message to the default exchange, routed to no queue (session.ts). */
  probe(): Promise<void> {
    if (this.closing) return Promise.reject(closedError());
    return this.track(this.currentSession().then((session) => session.probe()));
  }

  isHealthy(): boolean {
    return this.session?.usable ?? false;
  }

  /** Waits for calls in flight (each bounded by `confirmTimeoutMs`), then closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    const session = this.session;
    this.session = null;
    await session?.close();
  }

  private track<T>(call: Promise<T>): Promise<T> {
    this.inFlight.add(call);
    const forget = (): void => {
      this.inFlight.delete(call);
    };
    call.then(forget, forget);
    return call;
  }

  private currentSession(): Promise<PublisherSession> {
    const session = this.session;
    if (session && !session.isBroken) {
      // Blocked by a resource alarm: the connection is fine but publishing would just hang.
      const blocked = session.unusableReason();
      return blocked ? Promise.reject(blocked) : Promise.resolve(session);
    }
    if (this.opening) return this.opening;
    const waitMs = this.nextAttemptAt - Date.now();
    if (waitMs > 0) {
      return Promise.reject(
        new BrokerUnavailableError(
          `RabbitMQ at ${this.settings.redactedUrl} is unreachable; next connection attempt in ${waitMs} ms`,
          { cause: this.lastFailure },
        ),
      );
    }
    this.opening = this.openSession().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async openSession(): Promise<PublisherSession> {
    const previous = this.session;
    this.session = null;
    if (previous) void previous.close();
    try {
      const session = await PublisherSession.open(this.settings);
      this.session = session;
      this.failedAttempts = 0;
      this.nextAttemptAt = 0;
      this.logger.info('RabbitMQ publisher connected', { url: this.settings.redactedUrl });
      return session;
    } catch (error) {
      this.failedAttempts += 1;
      this.lastFailure = error;
      const delay = reconnectDelay(this.failedAttempts, this.backoff.initialMs, this.backoff.maxMs);
      this.nextAttemptAt = Date.now() + delay;
      this.logger.warn('RabbitMQ publisher could not connect', {
        url: this.settings.redactedUrl,
        error: error instanceof Error ? error.message : String(error),
        attempt: this.failedAttempts,
        retryInMs: delay,
      });
      throw error;
    }
  }
}

function closedError(): BrokerUnavailableError {
  return new BrokerUnavailableError('RabbitMQ publisher is closed');
}
