import type { RoutingRule } from '@orchestron/routing';
import type { WebhookSourcesConfig } from './webhook-sources';

/**
 * The configuration, after loading and resolution: durations in milliseconds, sizes in
 * bytes. Keys follow the seed config (api.*, database.*, broker.*, routing.*, outbox.*);
 * everything else is what the features need. docs/configuration.md describes each key.
 */
export interface OrchestronConfig {
  api: {
    address: string;
    rate_limit: number;
    rate_limit_burst: number;
    max_payload_size: number;
    max_batch_size: number;
    trust_proxy: boolean;
    require_api_key: boolean;
    key_refresh_interval: number;
    key_usage_flush_interval: number;
  };
  database: {
    url: string;
    host: string;
    port: number;
    user: string;
    password: string;
    name: string;
    max_connections: number;
    ssl: boolean;
    connect_timeout: number;
    statement_timeout: number;
  };
  broker: {
    type: 'rabbitmq' | 'kafka';
    rabbitmq: {
      url: string;
      host: string;
      port: number;
      user: string;
      password: string;
      vhost: string;
      prefetch_count: number;
      tls: boolean;
    };
    kafka: {
      brokers: string[];
      client_id: string;
      ssl: boolean;
      sasl: { mechanism: '' | 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
      create_topics: boolean;
      topic_partitions: number;
      replication_factor: number;
    };
  };
  routing: {
    default_topic: string;
    default_exchange: string;
    default_routing_key: string;
    max_retries: number;
    rules: RoutingRule[];
  };
  outbox: {
    process_interval: number;
    batch_size: number;
    concurrency: number;
    retry_base_delay: number;
    retry_max_delay: number;
    broker_backoff_max: number;
    shutdown_timeout: number;
  };
  relay: {
    address: string;
  };
  schemas: {
    directory: string;
    lists: Record<string, string[]>;
    max_clock_skew: number;
  };
  log: {
    level: 'error' | 'warn' | 'info' | 'debug';
  };
  /** Senders of raw webhooks (POST /webhooks/:source), by source name. */
  sources: WebhookSourcesConfig;
}

/** Type-erased convict schema; env names are derived from the key path (see envName). */
export const schema = {
  api: {
    address: { doc: 'Listen address of the ingest HTTP server.', format: 'listen-address', default: ':8080' },
    rate_limit: {
      doc: 'Requests per second allowed per client (API key, or IP when unauthenticated); 0 turns limiting off.',
      format: 'nat',
      default: 100,
    },
    rate_limit_burst: {
      doc: 'Extra requests a client may send above rate_limit within one second.',
      format: 'nat',
      default: 20,
    },
    max_payload_size: {
      doc: 'Largest request body accepted ("1MB", "512KB"); larger bodies get 413.',
      format: 'byte-size',
      default: '1MB',
    },
    max_batch_size: { doc: 'Most events accepted in one batch request.', format: 'nat', default: 1000 },
    trust_proxy: {
      doc: 'Trust X-Forwarded-For from a reverse proxy when identifying clients by IP.',
      format: Boolean,
      default: false,
    },
    require_api_key: {
      doc: 'Refuse event requests without an API key (401). A key that is presented is always checked.',
      format: Boolean,
      default: true,
    },
    key_refresh_interval: {
      doc: 'How often ingest reloads API keys; a revoked key stops working within this time.',
      format: 'duration-ms',
      default: '10s',
    },
    key_usage_flush_interval: {
      doc: 'How often ingest records when each API key was last used (one write per interval).',
      format: 'duration-ms',
      default: '30s',
    },
  },
  database: {
    url: {
      doc: 'Postgres connection URL; when set it overrides host, port, user, password and name.',
      format: String,
      default: '',
      sensitive: true,
      env: 'DATABASE_URL',
    },
    host: { doc: 'Postgres host.', format: String, default: 'localhost' },
    port: { doc: 'Postgres port.', format: 'port', default: 5432 },
    user: { doc: 'Postgres user.', format: String, default: 'postgres' },
    password: { doc: 'Postgres password.', format: String, default: 'postgres', sensitive: true },
    name: {
      doc: 'Database name; created by `orchestron migrate` when missing.',
      format: String,
      default: 'orchestron',
    },
    max_connections: { doc: 'Connection pool size per process.', format: 'nat', default: 20 },
    ssl: { doc: 'Connect to Postgres over TLS.', format: Boolean, default: false },
    connect_timeout: { doc: 'Time allowed to open a connection.', format: 'duration-ms', default: '5s' },
    statement_timeout: {
      doc: 'Postgres statement_timeout for Orchestron sessions (0 = none).',
      format: 'duration-ms',
      default: '30s',
    },
  },
  broker: {
    type: { doc: 'Broker the relay publishes to.', format: ['rabbitmq', 'kafka'], default: 'rabbitmq' },
    rabbitmq: {
      url: {
        doc: 'AMQP URL (amqp:// or amqps://); when set it overrides host, port, user, password and vhost.',
        format: String,
        default: '',
        sensitive: true,
        env: 'AMQP_URL',
      },
      host: { doc: 'RabbitMQ host.', format: String, default: 'localhost' },
      port: { doc: 'RabbitMQ port.', format: 'port', default: 5672 },
      user: { doc: 'RabbitMQ user.', format: String, default: 'guest' },
      password: { doc: 'RabbitMQ password.', format: String, default: 'guest', sensitive: true },
      vhost: { doc: 'RabbitMQ virtual host.', format: String, default: '/' },
      prefetch_count: { doc: 'Consumer prefetch (orchestron tail).', format: 'nat', default: 100 },
      tls: { doc: 'Connect with amqps (TLS).', format: Boolean, default: false },
    },
    kafka: {
      brokers: {
        doc: 'Kafka bootstrap brokers, host:port (a comma-separated list in the environment).',
        format: 'string-list',
        default: ['localhost:9092'],
        env: 'KAFKA_BROKERS',
      },
      client_id: { doc: 'Kafka client id.', format: String, default: 'orchestron' },
      ssl: { doc: 'Connect to Kafka over TLS.', format: Boolean, default: false },
      sasl: {
        mechanism: {
          doc: 'SASL mechanism; empty for none.',
          format: ['', 'plain', 'scram-sha-256', 'scram-sha-512'],
          default: '',
        },
        username: { doc: 'SASL user name.', format: String, default: '' },
        password: { doc: 'SASL password.', format: String, default: '', sensitive: true },
      },
      create_topics: {
        doc: 'Create destination topics on first use (needs the CreateTopics permission).',
        format: Boolean,
        default: true,
      },
      topic_partitions: { doc: 'Partitions of topics Orchestron creates.', format: 'nat', default: 3 },
      replication_factor: { doc: 'Replication factor of topics Orchestron creates.', format: 'nat', default: 1 },
    },
  },
  routing: {
    default_topic: { doc: 'Kafka topic of events no routing rule matches.', format: String, default: 'events' },
    default_exchange: {
      doc: 'RabbitMQ exchange of events no routing rule matches.',
      format: String,
      default: 'events',
    },
    default_routing_key: {
      doc: 'Routing key of the default route; "#" (a wildcard) means: publish with the event type as routing key.',
      format: String,
      default: '#',
    },
    rules: {
      doc: 'Routing rules: match by type and source glob, route to one or more destinations (docs/routing.md). JSON in the environment.',
      format: 'routing-rules',
      default: [],
    },
    max_retries: {
      doc: 'Retries after the first failed publish of a message before it is dead-lettered.',
      format: 'nat',
      default: 3,
    },
  },
  outbox: {
    process_interval: {
      doc: 'Polling interval of the relay when no NOTIFY wakes it.',
      format: 'duration-ms',
      default: '5s',
    },
    batch_size: { doc: 'Outbox rows claimed and published per batch.', format: 'nat', default: 100 },
    concurrency: { doc: 'Claim loops per relay process.', format: 'nat', default: 1 },
    retry_base_delay: {
      doc: 'First retry delay of a rejected message; doubles per attempt, with jitter.',
      format: 'duration-ms',
      default: '1s',
    },
    retry_max_delay: { doc: 'Longest retry delay of a rejected message.', format: 'duration-ms', default: '5m' },
    broker_backoff_max: {
      doc: 'Longest pause of a claim loop while the broker is unreachable.',
      format: 'duration-ms',
      default: '30s',
    },
    shutdown_timeout: {
      doc: 'Time allowed for in-flight batches on shutdown.',
      format: 'duration-ms',
      default: '30s',
    },
  },
  relay: {
    address: {
      doc: 'Listen address of the relay health and metrics server.',
      format: 'listen-address',
      default: ':9091',
    },
  },
  schemas: {
    directory: {
      doc: 'Directory of event JSON Schemas: <type>/<version>.json.',
      format: String,
      default: 'schemas',
    },
    lists: {
      doc: 'Named value lists for the allowedValuesFrom schema keyword, e.g. {currencies: [EUR, USD]}. JSON in the environment.',
      format: 'string-lists',
      default: {},
    },
    max_clock_skew: {
      doc: 'How far in the future an event time (and a notInFuture field) may lie, for clock skew.',
      format: 'duration-ms',
      default: '5m',
    },
  },
  log: {
    level: { doc: 'Log level.', format: ['error', 'warn', 'info', 'debug'], default: 'info' },
  },
  sources: {
    doc: 'Webhook senders of POST /webhooks/:source, by name: scheme, secrets (env:VAR / file:/path references), type_from, id_from, tolerance, unknown_types, static_fields; see docs/webhooks.md. JSON in the environment.',
    format: 'webhook-sources',
    default: {},
  },
};
