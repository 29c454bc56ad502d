import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'orchestron_';

/**
 * prom-client defaults that are gauges named like counters, which `promtool check metrics`
 * refuses. Each is the sum over the `type` label of a gauge it also exports
 * (`nodejs_active_handles{type}` and so on), so `sum(nodejs_active_handles)` says the same.
 */
export const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/**
 * A registry with the process defaults (CPU, memory, event loop lag, GC) under their standard
 * names (`process_*`, `nodejs_*`), which Node.js dashboards and alerts look for; only the
 * app's own metrics carry the `orchestron_` prefix.
 */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  return registry;
}

export interface HttpMetrics {
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route' | 'status'>;
}

export function httpMetrics(registry: Registry): HttpMetrics {
  return {
    requests: new Counter({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by method, route and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP request duration, from first byte to response end.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export interface IngestMetrics extends HttpMetrics {
  eventsReceived: Counter<'source' | 'type' | 'outcome'>;
}

export function ingestMetrics(registry: Registry): IngestMetrics {
  return {
    ...httpMetrics(registry),
    eventsReceived: new Counter({
      name: `${METRIC_PREFIX}events_received_total`,
      help: 'Events received, by source, type and outcome (accepted, duplicate, rejected); a source or type outside the configured ones is counted as other.',
      labelNames: ['source', 'type', 'outcome'],
      registers: [registry],
    }),
  };
}

export interface RelayMetrics {
  claimed: Counter<'broker'>;
  published: Counter<'broker' | 'destination'>;
  failed: Counter<'broker' | 'reason'>;
  rejected: Counter<'broker' | 'destination' | 'reason'>;
  deadLettered: Counter<'broker' | 'destination'>;
  publishDuration: Histogram<'broker'>;
  deliveryLatency: Histogram<'broker'>;
  brokerUnavailable: Counter<'broker'>;
  outboxPending: Gauge<'broker'>;
  outboxOldestPendingAge: Gauge<'broker'>;
  outboxOldestDueAge: Gauge<'broker'>;
  servesBroker: Gauge<'broker'>;
  deadLetterQueueSize: Gauge;
  retentionDeleted: Counter<'table'>;
  destinationUnbound: Gauge<'broker' | 'destination'>;
}

export function relayMetrics(registry: Registry): RelayMetrics {
  return {
    claimed: new Counter({
      name: `${METRIC_PREFIX}outbox_claimed_total`,
      help: 'Outbox rows claimed for publishing.',
      labelNames: ['broker'],
      registers: [registry],
    }),
    published: new Counter({
      name: `${METRIC_PREFIX}outbox_published_total`,
      help: 'Messages the broker acknowledged.',
      labelNames: ['broker', 'destination'],
      registers: [registry],
    }),
    failed: new Counter({
      name: `${METRIC_PREFIX}outbox_failed_total`,
      help: 'Messages the broker rejected (scheduled for retry or dead-lettered).',
      labelNames: ['broker', 'reason'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: `${METRIC_PREFIX}outbox_rejected_total`,
      help: 'Publish attempts of one message that failed as its own fault, by destination and reason: unbuildable (cannot be made a broker message), nacked (the broker did not store it, e.g. a full reject-publish queue), unroutable, isolated (it failed its whole batch while the broker answered), refused (any other refusal).',
      labelNames: ['broker', 'destination', 'reason'],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: `${METRIC_PREFIX}outbox_dead_lettered_total`,
      help: 'Messages moved to the dead-letter queue after their last retry.',
      labelNames: ['broker', 'destination'],
      registers: [registry],
    }),
    publishDuration: new Histogram({
      name: `${METRIC_PREFIX}publish_duration_seconds`,
      help: 'Time for one publish call (a batch) until the broker acknowledged it.',
      labelNames: ['broker'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: `${METRIC_PREFIX}delivery_latency_seconds`,
      help: 'Time from receipt by ingest to the broker acknowledgement.',
      labelNames: ['broker'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    brokerUnavailable: new Counter({
      name: `${METRIC_PREFIX}broker_unavailable_total`,
      help: 'Batches put back because the broker could not be reached (no attempt counted).',
      labelNames: ['broker'],
      registers: [registry],
    }),
    // The backlog gauges cover every broker in the outbox, served by this relay or not, so
    // that rows no relay publishes are seen (compare with orchestron_relay_serves_broker).
    outboxPending: new Gauge({
      name: `${METRIC_PREFIX}outbox_pending`,
      help: 'Outbox rows waiting to be published, by broker, whether or not this relay serves it (refreshed periodically, not per scrape).',
      labelNames: ['broker'],
      registers: [registry],
    }),
    outboxOldestPendingAge: new Gauge({
      name: `${METRIC_PREFIX}outbox_oldest_pending_age_seconds`,
      help: 'Age of the oldest pending outbox row, by broker.',
      labelNames: ['broker'],
      registers: [registry],
    }),
    outboxOldestDueAge: new Gauge({
      name: `${METRIC_PREFIX}outbox_oldest_due_age_seconds`,
      help: 'How long the longest-waiting due outbox row has been due, by broker (rows in retry backoff do not count).',
      labelNames: ['broker'],
      registers: [registry],
    }),
    servesBroker: new Gauge({
      name: `${METRIC_PREFIX}relay_serves_broker`,
      help: '1 for each broker this relay publishes to (it runs claim loops for it), 0 for a known broker it does not.',
      labelNames: ['broker'],
      registers: [registry],
    }),
    deadLetterQueueSize: new Gauge({
      name: `${METRIC_PREFIX}dead_letter_queue_size`,
      help: 'Dead letters waiting for an operator (status dead; refreshed periodically).',
      registers: [registry],
    }),
    retentionDeleted: new Counter({
      name: `${METRIC_PREFIX}retention_deleted_total`,
      help: 'Rows deleted by the retention cleanup, by table (outbox: published rows; events: with their rows).',
      labelNames: ['table'],
      registers: [registry],
    }),
    destinationUnbound: new Gauge({
      name: `${METRIC_PREFIX}destination_unbound`,
      help: '1 for a routing destination (RabbitMQ exchange) no binding of the configured topology takes messages from, else 0; set at relay start.',
      labelNames: ['broker', 'destination'],
      registers: [registry],
    }),
  };
}

export interface ConfigReloadMetrics {
  reloads: Counter<'result'>;
  lastSuccess: Gauge;
}

/** Configuration reloads of a process (both apps), as Prometheus' own config reload metrics. */
export function configReloadMetrics(registry: Registry): ConfigReloadMetrics {
  const metrics = {
    reloads: new Counter({
      name: `${METRIC_PREFIX}config_reloads_total`,
      help: 'Configuration reloads (SIGHUP or file change), by result: success, or failure (the old configuration stays).',
      labelNames: ['result'],
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: `${METRIC_PREFIX}config_last_reload_success_timestamp_seconds`,
      help: 'When the configuration in effect was last loaded successfully (at start or by a reload).',
      registers: [registry],
    }),
  };
  // Both series exist from the start, so rate() and increase() see the first failure.
  for (const result of ['success', 'failure'] as const) metrics.reloads.inc({ result }, 0);
  return metrics;
}
