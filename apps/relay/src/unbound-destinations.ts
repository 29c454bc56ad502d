import { unboundExchanges } from '@orchestron/broker-rabbitmq';
import type { OrchestronConfig } from '@orchestron/config';
import type { RelayMetrics } from '@orchestron/observability';
import { rabbitMqTopology } from './topology-from-config';

/** The logger method this module uses. */
export interface WarnLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** The RabbitMQ exchanges events can be routed to: the default one and those of the rules. */
export function rabbitMqDestinations(config: Pick<OrchestronConfig, 'broker' | 'routing'>): string[] {
  const exchanges = config.routing.rules.flatMap((rule) =>
    rule.destinations.flatMap((d) => (d.broker === 'rabbitmq' && d.exchange ? [d.exchange] : [])),
  );
  if (config.broker.type === 'rabbitmq') exchanges.unshift(config.routing.default_exchange);
  // '' is the default exchange: it routes to the queue named by the routing key, no binding.
  return [...new Set(exchanges)].filter((exchange) => exchange !== '');
}

/**
 * At start, reports every RabbitMQ routing destination that no binding of
 * `broker.rabbitmq.topology` takes messages from: published there, every event comes back
 * unroutable and, after its retries, lands in the dead-letter queue, unless consumers bind
 * queues of their own (which the relay cannot see). A warning per exchange, and the
 * `orchestron_destination_unbound` gauge (1 unbound, 0 bound) for an alert.
 */
export function reportUnboundDestinations(
  config: Pick<OrchestronConfig, 'broker' | 'routing'>,
  metrics: Pick<RelayMetrics, 'destinationUnbound'>,
  logger: WarnLogger,
): string[] {
  const destinations = rabbitMqDestinations(config);
  const unbound = new Set(unboundExchanges(rabbitMqTopology(config.broker.rabbitmq), destinations));
  for (const exchange of destinations) {
    metrics.destinationUnbound.set({ broker: 'rabbitmq', destination: exchange }, unbound.has(exchange) ? 1 : 0);
    if (!unbound.has(exchange)) continue;
    logger.warn(
      'RabbitMQ routing destination has no binding in broker.rabbitmq.topology: unless consumers bind queues of ' +
        'their own, its events come back unroutable and end in the dead-letter queue',
      { exchange },
    );
  }
  return [...unbound];
}
