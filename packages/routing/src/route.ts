import { globMatches } from './glob';
import { resolvePointer } from './json-pointer';
import type { RoutingRule } from './rules';

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
  data: unknown;
  /** The sender's partition key, if any. */
  partitionKey: string | null;
}

export interface RoutingDefaults {
  broker: 'rabbitmq' | 'kafka';
  default_topic: string;
  default_exchange: string;
  default_routing_key: string;
}

export interface RoutingTable extends RoutingDefaults {
  rules: readonly RoutingRule[];
}

/** A routing key with AMQP wildcards is a binding pattern, not a key to publish with. */
function isBindingPattern(routingKey: string): boolean {
  return routingKey === '' || routingKey.split('.').some((word) => word === '#' || word === '*');
}

function partitionKeyAt(event: RoutableEvent, pointer: string | undefined): string | null {
  if (pointer === undefined) return event.partitionKey;
  const value = resolvePointer({ type: event.type, source: event.source, data: event.data }, pointer);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return event.partitionKey;
}

function matches(rule: RoutingRule, event: RoutableEvent): boolean {
  const type = rule.match?.type ?? '*';
  const source = rule.match?.source ?? '*';
  return globMatches(type, event.type) && globMatches(source, event.source);
}

/**
 * The destinations of an event: those of the matching rules (the first match decides unless
 * it says `continue`), else the seed default — Kafka `default_topic` or RabbitMQ
 * `default_exchange` of `broker`. A routing key is the rule's, else `default_routing_key`,
 * unless that is a wildcard pattern (the seed's "#"): then the event type, so queues can bind
 * to the types they want. The partition key comes from the rule's JSON pointer, else the
 * sender's. Identical destinations are kept once.
 */
export function routeEvent(event: RoutableEvent, table: RoutingTable | RoutingDefaults): Destination[] {
  const defaultKey = isBindingPattern(table.default_routing_key) ? event.type : table.default_routing_key;
  const routes: Destination[] = [];
  for (const rule of 'rules' in table ? table.rules : []) {
    if (!matches(rule, event)) continue;
    for (const d of rule.destinations) {
      routes.push({
        broker: d.broker,
        destination: (d.broker === 'kafka' ? d.topic : d.exchange) as string,
        routingKey: d.routing_key ?? defaultKey,
        partitionKey: partitionKeyAt(event, d.partition_key),
      });
    }
    if (!rule.continue) break;
  }
  if (routes.length === 0) {
    routes.push({
      broker: table.broker,
      destination: table.broker === 'kafka' ? table.default_topic : table.default_exchange,
      routingKey: defaultKey,
      partitionKey: event.partitionKey,
    });
  }
  const seen = new Set<string>();
  return routes.filter((r) => {
    const id = JSON.stringify([r.broker, r.destination, r.routingKey, r.partitionKey]);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** Every broker a routing table can send events to (the relay runs a publisher for each). */
export function brokersOf(table: RoutingTable): Array<'rabbitmq' | 'kafka'> {
  return [...new Set([table.broker, ...table.rules.flatMap((r) => r.destinations.map((d) => d.broker))])];
}
