import type { Publisher } from '@orchestron/broker';
import { KafkaPublisher } from '@orchestron/broker-kafka';
import { RabbitMqPublisher } from '@orchestron/broker-rabbitmq';
import { amqpUrlFrom, kafkaConnection, rabbitMqTls, type OrchestronConfig } from '@orchestron/config';
import type { Logger } from '@orchestron/observability';
import { kafkaTopicSpecs, rabbitMqTopology } from './topology-from-config';

/**
 * The adapter for one broker, configured from the broker section. `reconnectBackoffMaxMs`
 * (`outbox.broker_backoff_max`) caps the RabbitMQ adapter's pause between connection
 * attempts, as it caps the claim loop's own; the Kafka adapter connects again on each call,
 * so only the loop's pause applies there.
 */
export function createPublisher(
  type: 'rabbitmq' | 'kafka',
  broker: OrchestronConfig['broker'],
  logger: Logger,
  options: { reconnectBackoffMaxMs?: number } = {},
): Publisher {
  if (type === 'kafka') {
    const kafka = broker.kafka;
    return new KafkaPublisher({
      ...kafkaConnection(kafka),
      createTopics: kafka.create_topics,
      topicPartitions: kafka.topic_partitions,
      replicationFactor: kafka.replication_factor,
      topicSpecs: kafkaTopicSpecs(kafka),
      logger: logger.child({ component: 'kafka' }),
    });
  }
  return new RabbitMqPublisher({
    url: amqpUrlFrom(broker.rabbitmq),
    socketOptions: rabbitMqTls(broker.rabbitmq),
    prefetch: broker.rabbitmq.prefetch_count,
    topology: rabbitMqTopology(broker.rabbitmq),
    ...(options.reconnectBackoffMaxMs === undefined
      ? {}
      : { reconnectBackoff: { maxMs: options.reconnectBackoffMaxMs } }),
    logger: logger.child({ component: 'rabbitmq' }),
  });
}
