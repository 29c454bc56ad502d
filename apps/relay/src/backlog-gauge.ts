import type { Knex } from 'knex';
import { outboxStats, type BrokerBacklog } from '@orchestron/db';
import type { RelayMetrics } from '@orchestron/observability';

/** A refresh more often than this would turn the gauges into a steady database load. */
export const MIN_STATS_INTERVAL_MS = 1_000;

/** The brokers an outbox row can name; each gets a series even when it has nothing pending. */
export const KNOWN_BROKERS = ['rabbitmq', 'kafka'] as const;

/** Rows waiting for a broker this relay does not serve are logged at most this often (per broker). */
export const UNSERVED_WARNING_INTERVAL_MS = 5 * 60_000;

export interface BacklogGaugeOptions {
  /** Brokers this relay runs claim loops for. */
  served: readonly string[];
  logger: { warn(message: string, fields?: Record<string, unknown>): void };
  /** For tests; Date.now by default. */
  now?: () => number;
}

/**
 * Refreshes the outbox depth and age gauges (per broker) and the dead-letter queue size on a
 * timer (`outbox.stats_interval`), so a Prometheus scrape never runs a query. Failures leave
 * the last values in place; the loops report database trouble.
 *
 * The gauges count every broker's rows, not only the ones this relay serves: ingest decides
 * routes from its own configuration, and a row for a broker no relay publishes to would
 * otherwise wait forever unseen. Such rows are also logged as a warning (rate-limited), and
 * `orchestron_relay_serves_broker` says which brokers this relay serves, for the alert.
 */
export function refreshBacklogGauges(
  db: Knex,
  metrics: Pick<
    RelayMetrics,
    'outboxPending' | 'outboxOldestPendingAge' | 'outboxOldestDueAge' | 'deadLetterQueueSize' | 'servesBroker'
  >,
  everyMs: number,
  options: BacklogGaugeOptions,
): () => void {
  const interval = Math.max(everyMs, MIN_STATS_INTERVAL_MS);
  const now = options.now ?? Date.now;
  const served = new Set(options.served);
  for (const broker of new Set([...KNOWN_BROKERS, ...served])) {
    metrics.servesBroker.set({ broker }, served.has(broker) ? 1 : 0);
  }
  const lastWarned = new Map<string, number>();
  const warnUnserved = (backlog: BrokerBacklog): void => {
    if (served.has(backlog.broker) || backlog.pending === 0) return;
    const last = lastWarned.get(backlog.broker);
    if (last !== undefined && now() - last < UNSERVED_WARNING_INTERVAL_MS) return;
    lastWarned.set(backlog.broker, now());
    options.logger.warn('outbox rows wait for a broker this relay does not serve; configure a relay for it', {
      broker: backlog.broker,
      pending: backlog.pending,
      oldestPendingAgeSeconds: Math.round(backlog.oldestPendingAgeSeconds),
      served: [...served],
    });
  };

  let running = false;
  const refresh = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const stats = await outboxStats(db);
      // Every known broker has a series (0 when nothing waits), so "> 0" alerts and
      // absent() checks see the same set of series whatever the backlog.
      const byBroker = new Map<string, BrokerBacklog>(
        [...KNOWN_BROKERS, ...served].map((broker) => [
          broker,
          { broker, pending: 0, oldestPendingAgeSeconds: 0, oldestDueAgeSeconds: 0 },
        ]),
      );
      for (const backlog of stats.brokers) byBroker.set(backlog.broker, backlog);
      for (const backlog of byBroker.values()) {
        const labels = { broker: backlog.broker };
        metrics.outboxPending.set(labels, backlog.pending);
        metrics.outboxOldestPendingAge.set(labels, backlog.oldestPendingAgeSeconds);
        metrics.outboxOldestDueAge.set(labels, backlog.oldestDueAgeSeconds);
        warnUnserved(backlog);
      }
      metrics.deadLetterQueueSize.set(stats.dead);
    } catch {
      // Keep the previous values.
    } finally {
      running = false;
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), interval);
  timer.unref();
  return () => clearInterval(timer);
}
