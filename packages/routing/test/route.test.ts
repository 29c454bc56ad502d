import { routeEvent } from '../src';

const event = { type: 'order.created', source: 'shop', partitionKey: 'c-1' };

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
