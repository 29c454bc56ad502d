import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Publisher } from '@orchestron/broker';
import { KafkaPublisher } from '@orchestron/broker-kafka';
import { RabbitMqPublisher } from '@orchestron/broker-rabbitmq';
import { amqpUrlFrom, type OrchestronConfig } from '@orchestron/config';
import type { Logger } from '@orchestron/observability';
import { kafkaTopicSpecs, rabbitMqTopology } from './topology-from-config';

/** TLS options from PEM file paths (read now); empty paths are left out (system CAs, no client cert). */
export function tlsFromFiles(files: { ca: string; cert: string; key: string }): ConnectionOptions {
  return {
    ...(files.ca ? { ca: readFileSync(files.ca, 'utf8') } : {}),
    ...(files.cert ? { cert: readFileSync(files.cert, 'utf8') } : {}),
    ...(files.key ? { key: readFileSync(files.key, 'utf8') } : {}),
  };
}

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
      ssl: kafka.ssl
        ? tlsFromFiles({ ca: kafka.ssl_ca_file, cert: kafka.ssl_cert_file, key: kafka.ssl_key_file })
        : false,
      sasl: kafka.sasl.mechanism
        ? { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: kafka.sasl.password }
        : undefined,
      createTopics: kafka.create_topics,
      topicPartitions: kafka.topic_partitions,
      replicationFactor: kafka.replication_factor,
      topicSpecs: kafkaTopicSpecs(kafka),
      logger: logger.child({ component: 'kafka' }),
    });
  }
  return new RabbitMqPublisher({
    url: amqpUrlFrom(broker.rabbitmq),
    socketOptions: tlsFromFiles({
      ca: broker.rabbitmq.ca_file,
      cert: broker.rabbitmq.cert_file,
      key: broker.rabbitmq.key_file,
    }),
    prefetch: broker.rabbitmq.prefetch_count,
    topology: rabbitMqTopology(broker.rabbitmq),
    logger: logger.child({ component: 'rabbitmq' }),
  });
}
