import type { Publisher } from '@orchestron/broker';
import { KafkaPublisher } from '@orchestron/broker-kafka';
import { RabbitMqPublisher } from '@orchestron/broker-rabbitmq';
import { amqpUrlFrom, type OrchestronConfig } from '@orchestron/config';
import type { Logger } from '@orchestron/observability';

/** The adapter for one broker, configured from the broker section. */
export function createPublisher(
  type: 'rabbitmq' | 'kafka',
  broker: OrchestronConfig['broker'],
  logger: Logger,
): Publisher {
  if (type === 'kafka') {
    const kafka = broker.kafka;
    return new KafkaPublisher({
      brokers: kafka.brokers,
      clientId: kafka.client_id,
      ssl: kafka.ssl,
      sasl: kafka.sasl.mechanism
        ? { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: kafka.sasl.password }
        : undefined,
      createTopics: kafka.create_topics,
      topicPartitions: kafka.topic_partitions,
      replicationFactor: kafka.replication_factor,
      logger: logger.child({ component: 'kafka' }),
    });
  }
  return new RabbitMqPublisher({
    url: amqpUrlFrom(broker.rabbitmq),
    prefetch: broker.rabbitmq.prefetch_count,
    logger: logger.child({ component: 'rabbitmq' }),
  });
}
