import { loadConfig } from '@orchestron/config';
import { createRegistry, relayMetrics } from '@orchestron/observability';
import { rabbitMqDestinations, reportUnboundDestinations } from '../src/unbound-destinations';

const RULES = JSON.stringify([
  { match: { type: 'order.*' }, destinations: [{ broker: 'rabbitmq', exchange: 'orders' }] },
  {
    match: { type: 'audit.*' },
    destinations: [
      { broker: 'rabbitmq', exchange: 'audit' },
      { broker: 'kafka', topic: 't' },
    ],
  },
  { match: { type: 'user.*' }, destinations: [{ broker: 'rabbitmq', exchange: 'events' }] },
]);

function config(env: Record<string, string>) {
  return loadConfig({ env: { ORCHESTRON_ROUTING_RULES: RULES, ...env } });
}

async function gauge(registry: ReturnType<typeof createRegistry>): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('orchestron_destination_unbound')?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.destination), v.value]));
}

describe('rabbitMqDestinations', () => {
  it('lists the default exchange and every RabbitMQ exchange of the rules, once each', () => {
    expect(rabbitMqDestinations(config({}))).toEqual(['events', 'orders', 'audit']);
  });

  it('leaves the default exchange out when the default broker is Kafka', () => {
    expect(rabbitMqDestinations(config({ ORCHESTRON_BROKER_TYPE: 'kafka' }))).toEqual(['orders', 'audit', 'events']);
  });
});

describe('reportUnboundDestinations', () => {
  it('warns about each destination with no binding in the topology and sets the gauge to 1 for it, 0 for the rest', async () => {
    const registry = createRegistry('relay-test');
    const metrics = relayMetrics(registry);
    const warn = jest.fn();

    const unbound = reportUnboundDestinations(
      config({
        ORCHESTRON_BROKER_RABBITMQ_TOPOLOGY_QUEUES: JSON.stringify([{ name: 'all' }]),
        ORCHESTRON_BROKER_RABBITMQ_TOPOLOGY_BINDINGS: JSON.stringify([{ queue: 'all', exchange: 'events' }]),
      }),
      metrics,
      { warn },
    );

    expect(unbound).toEqual(['orders', 'audit']);
    expect(warn.mock.calls.map(([, meta]) => meta)).toEqual([{ exchange: 'orders' }, { exchange: 'audit' }]);
    expect(warn.mock.calls[0]?.[0]).toMatch(/no binding in broker\.rabbitmq\.topology/);
    expect(await gauge(registry)).toEqual({ events: 0, orders: 1, audit: 1 });
  });

  it('stays quiet when every destination is bound', async () => {
    const registry = createRegistry('relay-test');
    const warn = jest.fn();
    const bindings = ['events', 'orders', 'audit'].map((exchange) => ({ queue: 'q', exchange }));

    reportUnboundDestinations(
      config({ ORCHESTRON_BROKER_RABBITMQ_TOPOLOGY_BINDINGS: JSON.stringify(bindings) }),
      relayMetrics(registry),
      { warn },
    );

    expect(warn).not.toHaveBeenCalled();
    expect(await gauge(registry)).toEqual({ events: 0, orders: 0, audit: 0 });
  });
});
