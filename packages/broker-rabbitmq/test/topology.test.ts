import { unboundExchanges } from '@orchestron/broker-rabbitmq';
import { queueOptions } from '../src/topology';

describe('unboundExchanges', () => {
  it('names the destinations no binding of the topology takes messages from, once each', () => {
    const topology = {
      bindings: [
        { queue: 'all', exchange: 'events', routingKey: '#' },
        { queue: 'orders', exchange: 'orders', routingKey: 'order.*' },
      ],
    };

    expect(unboundExchanges(topology, ['events', 'audit', 'orders', 'audit', 'payments'])).toEqual([
      'audit',
      'payments',
    ]);
  });

  it('names every destination when there is no topology', () => {
    expect(unboundExchanges({}, ['events'])).toEqual(['events']);
  });
});

describe('queueOptions', () => {
  it('declares a classic queue durable and without x-queue-type, so a plain declaration elsewhere matches', () => {
    expect(queueOptions({ name: 'q' })).toEqual({ durable: true, exclusive: false, autoDelete: false });
  });

  it('maps quorum, dead-lettering, TTL and length limit to their arguments', () => {
    expect(
      queueOptions({
        name: 'q',
        type: 'quorum',
        durable: false,
        deadLetterExchange: 'dlx',
        deadLetterRoutingKey: 'dead',
        messageTtlMs: 1_000,
        maxLength: 10,
      }),
    ).toEqual({
      durable: true,
      exclusive: false,
      autoDelete: false,
      deadLetterExchange: 'dlx',
      deadLetterRoutingKey: 'dead',
      messageTtl: 1_000,
      maxLength: 10,
      arguments: { 'x-queue-type': 'quorum' },
    });
  });
});
