export { loadConfig, configKeys, envName, redactConfig, configFileFrom, ConfigError } from './loader';
export type { LoadOptions } from './loader';
export type { OrchestronConfig } from './schema';
export { WEBHOOK_SCHEMES } from './webhook-sources';
export type { WebhookScheme, WebhookSourceConfig, WebhookSourcesConfig, ValueLocation } from './webhook-sources';
export { parseDuration, parseByteSize, parseListenAddress } from './formats';
export type { ListenAddress } from './formats';
export { amqpUrlFrom } from './connection';
export { configurationReference } from './reference';
