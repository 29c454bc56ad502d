export { RabbitMqPublisher } from './publisher';
export { RabbitMqConsumer } from './consumer';
export type { RabbitMqBrokerOptions } from './options';
export { CE_HEADERS as AMQP_CLOUDEVENTS_HEADERS, toAmqpPublish, fromAmqpDelivery } from './marshal';
export { unboundExchanges } from './topology';
export type { RabbitMqTopology, RabbitMqExchangeSpec, RabbitMqQueueSpec, RabbitMqBindingSpec } from './topology';
