import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The consumer's metrics, defined on the registry the service passes in (prefix
 * `orchestron_consumer_`, label `consumer`). Several consumers may share one registry: a
 * metric already registered there is reused.
 */
export interface ConsumerMetrics {
  /** Events by outcome: handled, duplicate (skipped by the inbox), dead_lettered, undecodable. */
  readonly events: Counter<'consumer' | 'outcome'>;
  /** Failed handler attempts (each try counts; the retries may still succeed). */
  readonly handlerFailures: Counter<'consumer'>;
  /** Keyed events that arrived after a newer event of their key had been handled. */
  readonly outOfOrder: Counter<'consumer'>;
  /** From receipt to commit of a handled event, retries included. */
  readonly handleDuration: Histogram<'consumer'>;
  readonly inFlight: Gauge<'consumer'>;
  /** Messages waiting: Kafka offset lag per partition, RabbitMQ ready messages in the queue. */
  readonly lag: Gauge<'consumer' | 'partition'>;
  readonly inboxPruned: Counter<'consumer' | 'table'>;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createConsumerMetrics(registry: Registry): ConsumerMetrics {
  const registers = [registry];
  return {
    events: reuse(
      registry,
      'orchestron_consumer_events_total',
      () =>
        new Counter({
          name: 'orchestron_consumer_events_total',
          help: 'Events received, by outcome (handled, duplicate, dead_lettered, undecodable)',
          labelNames: ['consumer', 'outcome'],
          registers,
        }),
    ),
    handlerFailures: reuse(
      registry,
      'orchestron_consumer_handler_failures_total',
      () =>
        new Counter({
          name: 'orchestron_consumer_handler_failures_total',
          help: 'Handler attempts that threw (retried with backoff, then dead-lettered)',
          labelNames: ['consumer'],
          registers,
        }),
    ),
    outOfOrder: reuse(
      registry,
      'orchestron_consumer_out_of_order_total',
      () =>
        new Counter({
          name: 'orchestron_consumer_out_of_order_total',
          help: 'Keyed events that arrived after a newer event of the same key had been handled',
          labelNames: ['consumer'],
          registers,
        }),
    ),
    handleDuration: reuse(
      registry,
      'orchestron_consumer_handle_duration_seconds',
      () =>
        new Histogram({
          name: 'orchestron_consumer_handle_duration_seconds',
          help: 'From receipt to the commit of a handled event, retries included',
          labelNames: ['consumer'],
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers,
        }),
    ),
    inFlight: reuse(
      registry,
      'orchestron_consumer_in_flight',
      () =>
        new Gauge({
          name: 'orchestron_consumer_in_flight',
          help: 'Events received and not yet acknowledged',
          labelNames: ['consumer'],
          registers,
        }),
    ),
    lag: reuse(
      registry,
      'orchestron_consumer_lag_messages',
      () =>
        new Gauge({
          name: 'orchestron_consumer_lag_messages',
          help: 'Messages waiting: Kafka offset lag per partition, RabbitMQ ready messages in the queue',
          labelNames: ['consumer', 'partition'],
          registers,
        }),
    ),
    inboxPruned: reuse(
      registry,
      'orchestron_consumer_retention_deleted_total',
      () =>
        new Counter({
          name: 'orchestron_consumer_retention_deleted_total',
          help: 'Rows deleted by retention, by table (inbox, key_positions)',
          labelNames: ['consumer', 'table'],
          registers,
        }),
    ),
  };
}
