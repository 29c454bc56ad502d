import type { KafkaTopicSpec } from '@orchestron/broker-kafka';
import type { RabbitMqTopology } from '@orchestron/broker-rabbitmq';
import type { OrchestronConfig } from '@orchestron/config';

/** `broker.kafka.topics` as the Kafka adapter declares them. */
export function kafkaTopicSpecs(kafka: OrchestronConfig['broker']['kafka']): KafkaTopicSpec[] {
  return kafka.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions,
    replicationFactor: topic.replication_factor,
    config: topic.config,
  }));
}

/** `broker.rabbitmq.topology` as the RabbitMQ adapter declares it. */
export function rabbitMqTopology(rabbitmq: OrchestronConfig['broker']['rabbitmq']): RabbitMqTopology {
  const { exchanges, queues, bindings } = rabbitmq.topology;
  return {
    exchanges: exchanges.map((e) => ({ name: e.name, type: e.type, durable: e.durable })),
    queues: queues.map((q) => ({
      name: q.name,
      type: q.type,
      durable: q.durable,
      deadLetterExchange: q.dead_letter_exchange,
      deadLetterRoutingKey: q.dead_letter_routing_key,
      messageTtlMs: q.message_ttl,
      maxLength: q.max_length,
    })),
    bindings: bindings.map((b) => ({ queue: b.queue, exchange: b.exchange, routingKey: b.routing_key })),
  };
}
