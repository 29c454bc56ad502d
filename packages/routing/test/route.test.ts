import { brokersOf, checkRoutingRules, routeEvent } from '../src';

const event = { type: 'order.created', source: 'shop', data: { customer: { id: 42 } }, partitionKey: 'c-1' };

describe('routeEvent', () => {
  it('routes to the default exchange with the event type as key when the default key is a wildcard', () => {
    expect(
      routeEvent(event, { broker: 'rabbitmq', default_topic: 't', default_exchange: 'ex', default_routing_key: '#' }),
    ).toEqual([{ broker: 'rabbitmq', destination: 'ex', routingKey: 'order.created', partitionKey: 'c-1' }]);
  });

  it('uses a literal default routing key as given', () => {
    const [route] = routeEvent(event, {
      broker: 'rabbitmq',
      default_topic: 't',
      default_exchange: 'ex',
      default_routing_key: 'all.events',
    });
    expect(route?.routingKey).toBe('all.events');
  });

  it('routes to the default topic for Kafka, keyed by the partition key', () => {
    expect(
      routeEvent(event, { broker: 'kafka', default_topic: 'events', default_exchange: 'ex', default_routing_key: '#' }),
    ).toEqual([{ broker: 'kafka', destination: 'events', routingKey: 'order.created', partitionKey: 'c-1' }]);
  });
});

describe('routeEvent with rules', () => {
  const table = {
    broker: 'rabbitmq' as const,
    default_topic: 'events',
    default_exchange: 'events',
    default_routing_key: '#',
    rules: [
      {
        match: { type: 'order.*', source: 'shop' },
        destinations: [
          { broker: 'kafka' as const, topic: 'orders', partition_key: '/data/customer/id' },
          { broker: 'rabbitmq' as const, exchange: 'orders', routing_key: 'orders.all' },
        ],
        continue: true,
      },
      { match: { type: 'order.created' }, destinations: [{ broker: 'rabbitmq' as const, exchange: 'audit' }] },
      { match: { type: 'order.*' }, destinations: [{ broker: 'rabbitmq' as const, exchange: 'never' }] },
    ],
  };

  it('fans out to every destination of the matching rules, stopping at the first rule without continue', () => {
    expect(routeEvent(event, table)).toEqual([
      { broker: 'kafka', destination: 'orders', routingKey: 'order.created', partitionKey: '42' },
      { broker: 'rabbitmq', destination: 'orders', routingKey: 'orders.all', partitionKey: 'c-1' },
      { broker: 'rabbitmq', destination: 'audit', routingKey: 'order.created', partitionKey: 'c-1' },
    ]);
  });

  it('matches on source too, and falls back to the default route when no rule matches', () => {
    const routes = routeEvent({ ...event, type: 'user.created', source: 'crm' }, table);
    expect(routes).toEqual([
      { broker: 'rabbitmq', destination: 'events', routingKey: 'user.created', partitionKey: 'c-1' },
    ]);
  });

  it("uses the sender's partition key when the pointer finds nothing", () => {
    const [kafka] = routeEvent({ ...event, data: {} }, table);
    expect(kafka?.partitionKey).toBe('c-1');
  });

  it('lists the brokers a table can route to', () => {
    expect(brokersOf(table).sort()).toEqual(['kafka', 'rabbitmq']);
  });
});

describe('checkRoutingRules', () => {
  it('accepts a valid list', () => {
    expect(checkRoutingRules([{ match: { type: 'a.*' }, destinations: [{ broker: 'kafka', topic: 't' }] }])).toEqual(
      [],
    );
  });

  it('reports every problem with its path', () => {
    expect(
      checkRoutingRules([
        { match: { kind: 'x' }, destinations: [] },
        {
          destinations: [
            { broker: 'kafka', exchange: 'e' },
            { broker: 'nats' },
            { broker: 'rabbitmq', exchange: 'x', partition_key: 'id' },
          ],
        },
      ]),
    ).toEqual([
      'routing.rules[0].match.kind: unknown key (type, source)',
      'routing.rules[0].destinations: must list at least one destination',
      'routing.rules[1].destinations[0].topic: a Kafka destination needs a topic name',
      'routing.rules[1].destinations[0].exchange: not used with broker kafka (use topic)',
      'routing.rules[1].destinations[1].broker: must be kafka or rabbitmq',
      'routing.rules[1].destinations[2].partition_key: must be a JSON pointer such as /data/customer_id',
    ]);
  });
});
