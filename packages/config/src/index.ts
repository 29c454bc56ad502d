export { loadConfig, configKeys, envName, redactConfig, configFileFrom, ConfigError } from './loader';
export type { LoadOptions } from './loader';
export type { HeapThreshold, OrchestronConfig } from './schema';
export { WEBHOOK_SCHEMES } from './webhook-sources';
export type { WebhookScheme, WebhookSourceConfig, WebhookSourcesConfig, ValueLocation } from './webhook-sources';
export { parseDuration, parseByteSize, parseHeapThreshold, parseListenAddress } from './formats';
export { timeBoundOf, durationMs } from './time-bound';
export type { ListenAddress } from './formats';
export { amqpUrlFrom } from './connection';
export { configurationReference } from './reference';
export type { EncryptionKeyConfig } from './encryption-keys';
export type {
  KafkaTopicConfig,
  RabbitMqBindingConfig,
  RabbitMqExchangeConfig,
  RabbitMqQueueConfig,
} from './broker-topology';
export { ConfigReloader } from './reloader';
export type { ConfigReloaderOptions, ReloadLogger, ReloadMetrics, ReloadOutcome, ReloadTrigger } from './reloader';
export { tlsFromFiles, kafkaTls, rabbitMqTls, kafkaConnection } from './broker-tls';
