export { KafkaPublisher } from './publisher';
export { KafkaConsumer, type KafkaConsumerOptions } from './consumer';
export type { KafkaBrokerOptions } from './options';
export type { KafkaTopicSpec } from './topics';
export { CE_HEADERS as KAFKA_CLOUDEVENTS_HEADERS, toKafkaMessage, fromKafkaMessage } from './marshal';
export { classifyKafkaError, type KafkaFailure } from './errors';
