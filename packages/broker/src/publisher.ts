import type { OutboundMessage, ReceivedMessage } from './message';

/**
 * Outcome of one message of a `publish` call, in the order the messages were given.
 * `error` is a `MessageRejectedError` (this message's fault: count an attempt); only what is
 * not any message's fault (a lost connection or channel) rejects the whole call, with
 * `BrokerUnavailableError`.
 */
export type PublishResult = { readonly ok: true } | { readonly ok: false; readonly error: Error };

/**
 * The port relay publishes through; one adapter per broker implements it.
 *
 * Guarantees every adapter gives (checked by the conformance suite against a real broker):
 * - `publish` resolves only when the broker has acknowledged every message it reports `ok`
 *   (Kafka acks=all, RabbitMQ publisher confirms): an `ok` message is durable on the broker.
 * - It resolves with exactly one result per input message, in input order. A message the
 *   broker refused gets `{ ok: false, error: MessageRejectedError }`.
 * - Every message is built (properties, headers, key, size and encoding checks) before any
 *   is sent; one that cannot be built is rejected the same way (reason `unbuildable`) and
 *   the others are sent. Nothing about one message makes the call reject.
 * - If the broker cannot be reached at all, or the connection fails mid-call, it rejects with
 *   `BrokerUnavailableError` instead, within the adapter's connection/request timeouts (never
 *   hangs); the caller treats the whole call as not published (some messages may have reached
 *   the broker: delivery is at-least-once, consumers drop duplicates by event id).
 * - Messages in one call with the same destination and key are sent in the given order, and
 *   so are those of calls made one after another.
 * - Safe to call concurrently; the adapter reconnects by itself after a broker outage: the
 *   next call reconnects, and while the broker stays unreachable calls fail fast with
 *   `BrokerUnavailableError` (the adapter may back off between connection attempts; relay
 *   has its own backoff on top).
 * - `publish([])` resolves `[]` without touching the broker.
 * - `close` waits for calls in flight and is idempotent; `publish` after `close` rejects with
 *   `BrokerUnavailableError`.
 */
export interface Publisher {
  /**
   * Connect eagerly and declare the broker topology the adapter was configured with (Kafka:
   * declared topics created, missing partitions added, drift logged; RabbitMQ: exchanges,
   * queues and bindings, declared again on every reconnect, before anything is published).
   * A declaration the broker refuses is logged, not thrown: it is configuration for an
   * operator to fix, and the rest of the topology and the publishing go on. Rejects with
   * BrokerUnavailableError when the broker cannot be reached; `publish` then connects (and
   * declares) by itself later. Calling it again is harmless.
   */
  connect(): Promise<void>;
  publish(messages: readonly OutboundMessage[]): Promise<PublishResult[]>;
  /**
   * Does the broker answer a publish right now? Resolves when it does (RabbitMQ: an empty
   * message to the default exchange, routed nowhere, is confirmed; Kafka: the producer
   * connects and registers), rejects with `BrokerUnavailableError` when it does not, within
   * the same timeouts as `publish`. Relay asks it when batches keep failing as "broker
   * unavailable", to tell a row that breaks its batch from an outage (isolating-publisher.ts).
   */
  probe(): Promise<void>;
  /** Cheap check for readiness probes: is the broker connection currently usable? */
  isHealthy(): boolean;
  close(): Promise<void>;
}

/** What a consumer subscription hands back; `stop` is idempotent. */
export interface Subscription {
  stop(): Promise<void>;
}

/**
 * Consumer side, for `orchestron tail` and tests: it shows what really reached the broker.
 * Kafka: a consumer group reading `destination` (topic). RabbitMQ: a queue bound to
 * `destination` (exchange) with `bindingKey`, consumed with the configured prefetch.
 */
export interface Consumer {
  subscribe(
    options: {
      destination: string;
      /** RabbitMQ binding key (default '#'); ignored by Kafka. */
      bindingKey?: string;
      /** Kafka group id / RabbitMQ queue name; a fresh one when absent. */
      group?: string;
      /** Kafka: start at the earliest offset. RabbitMQ: ignored (the queue exists only from now). */
      fromBeginning?: boolean;
    },
    onMessage: (message: ReceivedMessage) => Promise<void> | void,
  ): Promise<Subscription>;
  close(): Promise<void>;
}
