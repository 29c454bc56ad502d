import type { ConnectionOptions } from 'node:tls';
import type { BrokerLogger } from '@orchestron/broker';
import type { KafkaTopicSpec } from './topics';

/** Settings shared by `KafkaPublisher` and `KafkaConsumer`. */
export interface KafkaBrokerOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** `true` for TLS with the system CAs, or the TLS options (ca, cert, key, servername...). */
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
  /** Bound on establishing one TCP (+TLS) connection. Default 3 000. */
  readonly connectionTimeoutMs?: number;
  /** Bound on one request, and what the broker may wait for the in-sync replicas' acks. Default 30 000. */
  readonly requestTimeoutMs?: number;
  /**
   * How kafkajs retries a failed request (connection refused, leader moving...) before the
   * call fails with `BrokerUnavailableError`: waits start at `initialRetryTimeMs` and double
   * (±20 %) up to `maxRetryTimeMs`. With the defaults (5 retries from 300 ms) a publish to a
   * cluster that refuses connections fails after about 9 s; one whose packets are dropped
   * also spends up to `connectionTimeoutMs` per attempt. At least 1 retry: the idempotent
   * producer requires it.
   */
  readonly retry?: {
    readonly retries?: number;
    readonly initialRetryTimeMs?: number;
    readonly maxRetryTimeMs?: number;
  };
  /**
   * Create the topics the publisher uses (`topics` on connect, any other on first use) with the
   * admin API, where the cluster allows it. Off: topics must exist (no broker auto-creation
   * either). Default true.
   */
  readonly createTopics?: boolean;
  /** Topics to create on `connect()` (relay passes those of its routing rules). */
  readonly topics?: readonly string[];
  /**
   * Topics declared with their own settings (relay: `broker.kafka.topics`), created on
   * `connect()` (and on first use if the cluster could not be reached then), even when
   * `createTopics` is off. An existing one with fewer partitions gets partitions added (never
   * removed); a different replication factor or topic setting is logged, not changed.
   */
  readonly topicSpecs?: readonly KafkaTopicSpec[];
  /** Partitions of created topics. Default: the broker's `num.partitions`. */
  readonly topicPartitions?: number;
  /** Replication factor of created topics. Default: the broker's `default.replication.factor`. */
  readonly replicationFactor?: number;
  readonly logger?: BrokerLogger;
}

export const DEFAULTS = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
  retries: 5,
  initialRetryTimeMs: 300,
  maxRetryTimeMs: 30_000,
} as const;
