import { describePublisherConformance } from '@orchestron/broker/conformance';
import { amqpUrl } from '@orchestron/testing/services';
import { RabbitMqConsumer, RabbitMqPublisher } from '@orchestron/broker-rabbitmq';
import { uniqueName, urlVia, withChannel } from './support/fixtures';

describePublisherConformance(
  'RabbitMQ',
  {
    async create() {
      const url = amqpUrl();
      const destination = uniqueName('conformance');
      const publisher = new RabbitMqPublisher({ url, connectionTimeoutMs: 5_000, confirmTimeoutMs: 10_000 });
      const consumer = new RabbitMqConsumer({ url, prefetch: 20 });
      return {
        publisher,
        consumer,
        destination,
        async teardown() {
          await publisher.close();
          await consumer.close();
          await withChannel(async (channel) => {
            await channel.deleteQueue(`${destination}.ack`);
            await channel.deleteExchange(destination);
          });
        },
      };
    },
    // No queue is bound for this routing key: published mandatory, it comes back unroutable.
    rejectedMessage: (valid) => ({ ...valid, routingKey: `unroutable.${valid.id}` }),
    // Port 1: connection refused at once.
    unreachablePublisher: () => new RabbitMqPublisher({ url: urlVia(1), connectionTimeoutMs: 2_000 }),
  },
  { ordering: true, unreachableFailsWithinMs: 3_000 },
);
