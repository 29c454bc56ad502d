export { loadConfig, configKeys, envName, redactConfig, configFileFrom, ConfigError } from './loader';
export type { LoadOptions } from './loader';
export type { OrchestronConfig } from './schema';
export { parseDuration, parseByteSize, parseListenAddress } from './formats';
export type { ListenAddress } from './formats';
export { amqpUrlFrom } from './connection';
export { configurationReference } from './reference';
