import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { OrchestronConfig } from './schema';

/** TLS options from PEM file paths (read now); empty paths are left out (system CAs, no client cert). */
export function tlsFromFiles(files: { ca: string; cert: string; key: string }): ConnectionOptions {
  return {
    ...(files.ca ? { ca: readFileSync(files.ca, 'utf8') } : {}),
    ...(files.cert ? { cert: readFileSync(files.cert, 'utf8') } : {}),
    ...(files.key ? { key: readFileSync(files.key, 'utf8') } : {}),
  };
}

/** The kafkajs `ssl` option of broker.kafka: false, or TLS with the configured files. */
export function kafkaTls(kafka: OrchestronConfig['broker']['kafka']): false | ConnectionOptions {
  return kafka.ssl
    ? tlsFromFiles({ ca: kafka.ssl_ca_file, cert: kafka.ssl_cert_file, key: kafka.ssl_key_file })
    : false;
}

/** The amqplib socket options of broker.rabbitmq (used when the URL is amqps://). */
export function rabbitMqTls(rabbitmq: OrchestronConfig['broker']['rabbitmq']): ConnectionOptions {
  return tlsFromFiles({ ca: rabbitmq.ca_file, cert: rabbitmq.cert_file, key: rabbitmq.key_file });
}

/**
 * How to reach Kafka, as the publisher (relay) and the consumer (orchestron tail) both need
 * it: bootstrap brokers, client id, TLS and SASL from broker.kafka.
 */
export function kafkaConnection(kafka: OrchestronConfig['broker']['kafka']): {
  brokers: string[];
  clientId: string;
  ssl: false | ConnectionOptions;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
} {
  return {
    brokers: kafka.brokers,
    clientId: kafka.client_id,
    ssl: kafkaTls(kafka),
    ...(kafka.sasl.mechanism
      ? { sasl: { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: kafka.sasl.password } }
      : {}),
  };
}
