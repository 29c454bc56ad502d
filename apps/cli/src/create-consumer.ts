import type { BrokerLogger, Consumer } from '@orchestron/broker';
import { KafkaConsumer } from '@orchestron/broker-kafka';
import { RabbitMqConsumer } from '@orchestron/broker-rabbitmq';
import { amqpUrlFrom, kafkaConnection, rabbitMqTls, type OrchestronConfig } from '@orchestron/config';

/**
 * The consumer side of one broker, configured from the broker section as relay configures
 * its publisher. `prefetch` overrides `broker.rabbitmq.prefetch_count` (tail lowers it to
 * --max, so that no message beyond the last one printed is taken from a durable queue).
 */
export function createConsumer(
  type: 'rabbitmq' | 'kafka',
  broker: OrchestronConfig['broker'],
  logger: BrokerLogger,
  options: { prefetch?: number } = {},
): Consumer {
  if (type === 'kafka') {
    const kafka = broker.kafka;
    return new KafkaConsumer({
      ...kafkaConnection(kafka),
      logger,
    });
  }
  return new RabbitMqConsumer({
    url: amqpUrlFrom(broker.rabbitmq),
    socketOptions: rabbitMqTls(broker.rabbitmq),
    prefetch: options.prefetch ?? broker.rabbitmq.prefetch_count,
    connectionName: 'orchestron-tail',
    logger,
  });
}
