import { Kafka, logLevel, type KafkaConfig, type RetryOptions, type SASLOptions } from 'kafkajs';
import { silentLogger } from '@orchestron/broker';
import { kafkaLogCreator } from './log';
import { DEFAULTS, type KafkaBrokerOptions } from './options';

/** The kafkajs retry settings of the options (also used for the producer and admin client). */
export function retryOf(options: KafkaBrokerOptions): RetryOptions {
  return {
    // The idempotent producer refuses 0 retries.
    retries: Math.max(1, options.retry?.retries ?? DEFAULTS.retries),
    initialRetryTime: options.retry?.initialRetryTimeMs ?? DEFAULTS.initialRetryTimeMs,
    maxRetryTime: options.retry?.maxRetryTimeMs ?? DEFAULTS.maxRetryTimeMs,
    // Spelled out: kafkajs silently switches to other defaults when NODE_ENV is "test".
    factor: 0.2,
    multiplier: 2,
  };
}

export function kafkaConfig(options: KafkaBrokerOptions): KafkaConfig {
  if (options.brokers.length === 0) throw new TypeError('Kafka needs at least one broker address');
  return {
    clientId: options.clientId,
    brokers: [...options.brokers],
    ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
    ...(options.sasl ? { sasl: saslOf(options.sasl) } : {}),
    connectionTimeout: options.connectionTimeoutMs ?? DEFAULTS.connectionTimeoutMs,
    requestTimeout: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    retry: retryOf(options),
    // INFO, not DEBUG: kafkajs builds every debug entry (per request) even if it is dropped.
    logLevel: options.logger ? logLevel.INFO : logLevel.NOTHING,
    logCreator: kafkaLogCreator(options.logger ?? silentLogger),
  };
}

export function createKafka(options: KafkaBrokerOptions): Kafka {
  return new Kafka(kafkaConfig(options));
}

/** Spelled out per mechanism: kafkajs types SASL options as a union per mechanism. */
function saslOf(sasl: NonNullable<KafkaBrokerOptions['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}
