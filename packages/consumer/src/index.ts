export { createConsumer, type ConsumerOptions, type ConsumerHealth, type OrchestronConsumer } from './consumer';
export {
  REPLAY_EXTENSION,
  UndecodableMessageError,
  isJsonMediaType,
  type OrchestronEvent,
  type KafkaOrigin,
  type RabbitMqOrigin,
} from './event';
export { decodeKafkaMessage } from './decode-kafka';
export { decodeAmqpMessage } from './decode-amqp';
export type { EventHandler, HandlerContext, DeadLetterTarget, Outcome } from './processor';
export type { RetryPolicy } from './backoff';
export type { RetentionOptions } from './retention';
export type { RabbitMqSourceOptions } from './rabbitmq-source';
export type { KafkaSourceOptions } from './kafka-source';
export type { ConsumerLogger } from './logger';
export { createConsumerTables, CREATE_TABLES_SQL } from './sql/create-tables';
