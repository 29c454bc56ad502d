/** Where one copy of an event goes: one outbox row each. */
export interface Destination {
  broker: 'rabbitmq' | 'kafka';
  /** Kafka topic or RabbitMQ exchange. */
  destination: string;
  routingKey: string;
  partitionKey: string | null;
}

export interface RoutableEvent {
  type: string;
  source: string;
  /** The sender's partition key, if any. */
  partitionKey: string | null;
}

export interface RoutingDefaults {
  broker: 'rabbitmq' | 'kafka';
  default_topic: string;
  default_exchange: string;
  default_routing_key: string;
}

/** A routing key with AMQP wildcards is a binding pattern, not a key to publish with. */
function isBindingPattern(routingKey: string): boolean {
  return routingKey === '' || routingKey.split('.').some((word) => word === '#' || word === '*');
}

/**
 * Routes an event by the seed defaults: Kafka to `default_topic`, RabbitMQ to
 * `default_exchange`. The routing key is `default_routing_key`, unless that is a wildcard
 * pattern (the seed's "#"), in which case the event type is the routing key, so that queues
 * can bind to the types they want ("order.*") and "#" receives everything.
 */
export function routeEvent(event: RoutableEvent, defaults: RoutingDefaults): Destination[] {
  return [
    {
      broker: defaults.broker,
      destination: defaults.broker === 'kafka' ? defaults.default_topic : defaults.default_exchange,
      routingKey: isBindingPattern(defaults.default_routing_key) ? event.type : defaults.default_routing_key,
      partitionKey: event.partitionKey,
    },
  ];
}
