import type { ConnectionOptions } from 'node:tls';
import type { BrokerLogger } from '@orchestron/broker';
import type { RabbitMqTopology } from './topology';

/** Settings shared by `RabbitMqPublisher` and `RabbitMqConsumer`. */
export interface RabbitMqBrokerOptions {
  /** `amqp://` or `amqps://` URL with credentials and vhost. Its password is never logged. */
  readonly url: string;
  /** Consumer: unacknowledged deliveries per subscription (`basic.qos`). Default 50. */
  readonly prefetch?: number;
  /** Type of the exchanges asserted for destinations (durable). Only `topic` for now. */
  readonly exchangeType?: 'topic';
  /** TLS settings for `amqps://` (ca, cert, key, passphrase, servername, rejectUnauthorized). */
  readonly socketOptions?: ConnectionOptions;
  /** AMQP heartbeat: a silently dead peer is noticed after about two missed beats. Default 30. */
  readonly heartbeatSeconds?: number;
  /** Bound on TCP connect + TLS + AMQP handshake. Default 10 000. */
  readonly connectionTimeoutMs?: number;
  /**
   * How long a publish waits for the broker's confirms before it rejects with
   * `BrokerUnavailableError` and drops the connection (e.g. the broker is blocked by a
   * memory alarm and never answers). Default 30 000.
   */
  readonly confirmTimeoutMs?: number;
  /**
   * Delay between failed connection attempts: doubles from `initialMs` up to `maxMs`, with
   * jitter. Default 200 ms to 30 s; the relay sets `maxMs` to `outbox.broker_backoff_max`.
   */
  readonly reconnectBackoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /**
   * Publisher: exchanges, queues and bindings declared on every connection it opens (at
   * `connect()` and after each reconnect), before anything is published. A declaration the
   * broker refuses is logged and the others go on.
   */
  readonly topology?: RabbitMqTopology;
  /** Shown as the connection name in the RabbitMQ management UI. Default `orchestron`. */
  readonly connectionName?: string;
  readonly logger?: BrokerLogger;
}

export const DEFAULTS = {
  prefetch: 50,
  heartbeatSeconds: 30,
  connectionTimeoutMs: 10_000,
  confirmTimeoutMs: 30_000,
  reconnectInitialMs: 200,
  reconnectMaxMs: 30_000,
  connectionName: 'orchestron',
} as const;
