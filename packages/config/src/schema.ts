import type { EncryptionKeyConfig } from './encryption-keys';
import type { RoutingRule } from '@orchestron/routing';
import type {
  KafkaTopicConfig,
  RabbitMqBindingConfig,
  RabbitMqExchangeConfig,
  RabbitMqQueueConfig,
} from './broker-topology';
import type { WebhookSourcesConfig } from './webhook-sources';

/** `max_heap_used` resolved: a share of V8's heap limit ("90%"), or a size in bytes ("400MB"). */
export type HeapThreshold = { fraction: number } | { bytes: number };

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
    headers_timeout: number;
    request_timeout: number;
    keep_alive_timeout: number;
    auth_failure_limit: number;
    auth_failure_window: number;
    max_number_digits: number;
    max_number_exponent: number;
    /** Per broker: the largest message ingest accepts an event for (bytes). */
    max_message_size: { kafka: number; rabbitmq: number };
    /** HTTPS instead of HTTP when cert_file and key_file are set; ca_file requires client certificates. */
    tls: { cert_file: string; key_file: string; ca_file: string };
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
    ssl_ca_file: string;
    ssl_cert_file: string;
    ssl_key_file: string;
    ssl_reject_unauthorized: boolean;
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
      ca_file: string;
      cert_file: string;
      key_file: string;
      /** Declared by the relay at start and on every reconnect (docs/architecture.md, Broker topology). */
      topology: {
        exchanges: RabbitMqExchangeConfig[];
        queues: RabbitMqQueueConfig[];
        bindings: RabbitMqBindingConfig[];
      };
    };
    kafka: {
      brokers: string[];
      client_id: string;
      ssl: boolean;
      ssl_ca_file: string;
      ssl_cert_file: string;
      ssl_key_file: string;
      sasl: { mechanism: '' | 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
      create_topics: boolean;
      topic_partitions: number;
      replication_factor: number;
      /** Created (or extended) by the relay at start (docs/architecture.md, Broker topology). */
      topics: KafkaTopicConfig[];
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
    stats_interval: number;
    ordering: 'none' | 'partition_key';
    dead_letter_policy: 'skip' | 'block';
  };
  relay: {
    address: string;
  };
  /** The admin API (apps/admin): its own listener, never ingest's. */
  admin: {
    address: string;
    rate_limit: number;
    rate_limit_burst: number;
    auth_failure_limit: number;
    trust_proxy: boolean;
    key_rotation_grace: number;
    max_page_size: number;
    /** HTTPS instead of HTTP when cert_file and key_file are set; ca_file requires client certificates. */
    tls: { cert_file: string; key_file: string; ca_file: string };
  };
  retention: {
    published_outbox: number;
    events: number;
    batch_size: number;
    batch_pause: number;
    interval: number;
  };
  /** Replays of stored events (docs/admin.md, Replays): the runner in the admin app. */
  replay: {
    batch_size: number;
    default_rate_limit: number;
    max_rate_limit: number;
    concurrency: number;
    poll_interval: number;
    lease: number;
    max_pending: number;
  };
  schemas: {
    directory: string;
    lists: Record<string, string[]>;
    max_clock_skew: number;
    accept_unknown_types_from: string[];
  };
  log: {
    level: 'error' | 'warn' | 'info' | 'debug';
  };
  health: {
    /** Readiness fails while the event loop's p99 delay exceeds this (ms). */
    max_event_loop_lag: number;
    /** Readiness fails while the V8 heap in use exceeds this share of the heap limit, or these bytes. */
    max_heap_used: HeapThreshold;
  };
  encryption: {
    active_key_id: string;
    keys: EncryptionKeyConfig[];
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
    headers_timeout: {
      doc: 'How long a client may take to send the request headers; a slower one gets 408 and its connection is closed.',
      format: 'duration-ms',
      default: '10s',
    },
    request_timeout: {
      doc: 'How long a client may take to send a whole request, body included; a slower one gets 408 and its connection is closed. At least headers_timeout.',
      format: 'duration-ms',
      default: '30s',
    },
    keep_alive_timeout: {
      doc: 'How long an idle keep-alive connection stays open between requests. Longer than a load balancer idle timeout, so that it never reuses a connection ingest has just closed.',
      format: 'duration-ms',
      default: '65s',
    },
    auth_failure_limit: {
      doc: 'Failed authentications (no, unknown or revoked API key; invalid webhook signature) allowed per client address within auth_failure_window; further failures get 429 instead of 401. A valid key or signature from the same address is never refused by it. 0 turns it off.',
      format: 'nat',
      default: 20,
    },
    auth_failure_window: {
      doc: 'The window auth_failure_limit counts failures in.',
      format: 'duration-ms',
      default: '1m',
    },
    max_number_digits: {
      doc: 'Most digits a JSON number in an event may have (leading zeros not counted); more gets 422. With max_number_exponent it bounds how much a number grows when written out in full, as Postgres stores it (docs/architecture.md, What ingest refuses and why).',
      format: 'nat',
      default: 1000,
    },
    max_number_exponent: {
      doc: 'Largest exponent (e400, e-400) a JSON number in an event may have; more gets 422. 1e400 is stored and published as 401 digits; 400 lets through every double. max_number_digits + max_number_exponent may be at most 16383 (Postgres numeric range).',
      format: 'nat',
      default: 400,
    },
    max_message_size: {
      kafka: {
        doc: "Largest message ingest accepts an event for when it routes to Kafka (payload as published plus its headers); a larger event gets 413 instead of being dead-lettered by the relay. Keep it below the topics' max.message.bytes (broker default 1048588) with headroom for record overhead.",
        format: 'byte-size',
        default: '960KB',
      },
      rabbitmq: {
        doc: "Largest message ingest accepts an event for when it routes to RabbitMQ; a larger event gets 413. Keep it below the broker's max_message_size (16MB by default since RabbitMQ 4.0).",
        format: 'byte-size',
        default: '15MB',
      },
    },
    tls: {
      cert_file: {
        doc: 'PEM certificate (chain) of the HTTPS listener; with key_file, ingest serves HTTPS instead of HTTP. Re-read on reload.',
        format: String,
        default: '',
      },
      key_file: { doc: 'PEM private key of the HTTPS listener.', format: String, default: '' },
      ca_file: {
        doc: 'PEM CA bundle for client certificates; when set, every client must present a certificate it signed (mutual TLS).',
        format: String,
        default: '',
      },
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
    ssl: {
      doc: 'Connect to Postgres over TLS (then the ssl_* keys apply, and sslmode in database.url is ignored).',
      format: Boolean,
      default: false,
    },
    ssl_ca_file: {
      doc: 'PEM CA bundle the Postgres server certificate is checked against; empty: the system CAs.',
      format: String,
      default: '',
    },
    ssl_cert_file: {
      doc: 'PEM client certificate for Postgres (certificate authentication).',
      format: String,
      default: '',
    },
    ssl_key_file: { doc: 'PEM private key of ssl_cert_file.', format: String, default: '' },
    ssl_reject_unauthorized: {
      doc: 'Refuse a Postgres server whose certificate does not verify (CA and host name). Turn off only to test.',
      format: Boolean,
      default: true,
    },
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
      ca_file: {
        doc: 'PEM CA bundle the RabbitMQ server certificate is checked against (amqps); empty: the system CAs.',
        format: String,
        default: '',
      },
      cert_file: {
        doc: 'PEM client certificate for RabbitMQ (amqps, EXTERNAL or mutual TLS).',
        format: String,
        default: '',
      },
      key_file: { doc: 'PEM private key of cert_file.', format: String, default: '' },
      topology: {
        exchanges: {
          doc: 'Exchanges the relay declares at start and on reconnect: list of {name, type (topic, direct, fanout or headers; default topic), durable (default true)}. JSON in the environment.',
          format: 'rabbitmq-exchanges',
          default: [],
        },
        queues: {
          doc: 'Queues the relay declares at start and on reconnect: list of {name, type (classic or quorum; default classic), durable (default true), dead_letter_exchange, dead_letter_routing_key, message_ttl ("10m"), max_length}. JSON in the environment.',
          format: 'rabbitmq-queues',
          default: [],
        },
        bindings: {
          doc: 'Queue bindings the relay declares at start and on reconnect: list of {queue, exchange, routing_key (default "#")}. A routing destination with none is reported at start (orchestron_destination_unbound). JSON in the environment.',
          format: 'rabbitmq-bindings',
          default: [],
        },
      },
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
      ssl_ca_file: {
        doc: 'PEM CA bundle the Kafka broker certificates are checked against; empty: the system CAs.',
        format: String,
        default: '',
      },
      ssl_cert_file: { doc: 'PEM client certificate for Kafka (mutual TLS).', format: String, default: '' },
      ssl_key_file: { doc: 'PEM private key of ssl_cert_file.', format: String, default: '' },
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
      topics: {
        doc: 'Topics the relay creates at start: list of {name, partitions, replication_factor (defaults: the two keys above), config: {"max.message.bytes": "...", "retention.ms": ...}}. An existing topic with fewer partitions gets partitions added (never removed); other differences are logged, not changed. JSON in the environment.',
        format: 'kafka-topics',
        default: [],
      },
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
    concurrency: {
      doc: "Claim loops per relay process; two overlap one batch's database work with the other's publishing.",
      format: 'nat',
      default: 2,
    },
    retry_base_delay: {
      doc: 'First retry delay of a rejected message; doubles per attempt, with jitter.',
      format: 'duration-ms',
      default: '1s',
    },
    retry_max_delay: { doc: 'Longest retry delay of a rejected message.', format: 'duration-ms', default: '5m' },
    broker_backoff_max: {
      doc: "Longest pause of a claim loop while the broker is unreachable, and between the RabbitMQ publisher's connection attempts.",
      format: 'duration-ms',
      default: '30s',
    },
    shutdown_timeout: {
      doc: 'Time allowed for in-flight batches on shutdown.',
      format: 'duration-ms',
      default: '30s',
    },
    stats_interval: {
      doc: 'How often the relay refreshes the outbox and dead-letter gauges from the database (a scrape never queries it). At least 1s.',
      format: 'duration-ms',
      default: '10s',
    },
    ordering: {
      doc: 'none: publish as fast as possible, in no particular order. partition_key: events with the same destination and partition key are published one after the other in ingest order, across all loops and replicas, crashes and retries (slower; docs/architecture.md, Ordering).',
      format: ['none', 'partition_key'],
      default: 'none',
    },
    dead_letter_policy: {
      doc: 'With ordering partition_key, what a dead-lettered event does to the later events of its key: skip lets them go on; block holds them until the dead letter is replayed or discarded.',
      format: ['skip', 'block'],
      default: 'skip',
    },
  },
  retention: {
    published_outbox: {
      doc: 'Published outbox rows older than this are deleted by the relay; 0 keeps them.',
      format: 'duration-ms',
      default: '24h',
    },
    events: {
      doc: 'Events older than this are deleted with their outbox and dead-letter rows, once none of their outbox rows is pending and none of their dead letters waits (status dead); 0 keeps them.',
      format: 'duration-ms',
      default: '7d',
    },
    batch_size: {
      doc: 'Rows deleted per statement; a full batch is followed by another after batch_pause. At least 1.',
      format: 'nat',
      default: 1000,
    },
    batch_pause: {
      doc: 'Pause between two cleanup batches, so that cleanup never hogs the database.',
      format: 'duration-ms',
      default: '100ms',
    },
    interval: {
      doc: "How often each relay runs a cleanup pass (several replicas may run it at once; they skip each other's rows). 0 turns cleanup off.",
      format: 'duration-ms',
      default: '1m',
    },
  },
  replay: {
    batch_size: {
      doc: 'Most events a replay enqueues per batch (one short transaction each; fewer when the rate limit is lower). At least 1.',
      format: 'nat',
      default: 500,
    },
    default_rate_limit: {
      doc: 'Events per second of a replay that names no rate_limit.',
      format: 'nat',
      default: 1000,
    },
    max_rate_limit: {
      doc: 'Highest rate_limit a replay may ask for (events per second), so that no replay outruns the relays.',
      format: 'nat',
      default: 5000,
    },
    concurrency: {
      doc: 'Replays one admin process runs at once (each admin replica runs its own; a replay runs in one place at a time). 0: this process runs none.',
      format: 'nat',
      default: 2,
    },
    poll_interval: {
      doc: 'How often an idle replay runner looks for queued replays (one created through this process starts at once). At least 10ms.',
      format: 'duration-ms',
      default: '2s',
    },
    lease: {
      doc: 'How long a runner holds a replay without finishing a batch before another may take it over (a runner that died). Each batch renews it. At least 1s.',
      format: 'duration-ms',
      default: '30s',
    },
    max_pending: {
      doc: 'A replay enqueues its next batch only while fewer of its outbox rows than this wait for the relays: it goes no faster than they publish, and live events wait behind at most this many replayed rows. At least 1.',
      format: 'nat',
      default: 250,
    },
  },
  relay: {
    address: {
      doc: 'Listen address of the relay health and metrics server.',
      format: 'listen-address',
      default: ':9091',
    },
  },
  admin: {
    address: {
      doc: 'Listen address of the admin API (apps/admin); must differ from api.address: admin never shares a port with ingest.',
      format: 'listen-address',
      default: ':8081',
    },
    rate_limit: {
      doc: 'Admin API requests per second allowed per API key (per IP before authentication); 0 turns limiting off.',
      format: 'nat',
      default: 20,
    },
    rate_limit_burst: {
      doc: 'Extra admin API requests a key may send above admin.rate_limit within one second.',
      format: 'nat',
      default: 20,
    },
    auth_failure_limit: {
      doc: 'Failed authentications (unknown or revoked API key) allowed per client address and minute; further failures get 429 instead of 401, while valid keys from that address are still served. 0 turns it off.',
      format: 'nat',
      default: 20,
    },
    trust_proxy: {
      doc: 'Trust X-Forwarded-For from a reverse proxy when identifying admin clients by IP.',
      format: Boolean,
      default: false,
    },
    key_rotation_grace: {
      doc: 'How long the old secret of a rotated API key keeps working (POST /v1/keys/{name}/rotate may ask for less).',
      format: 'duration-ms',
      default: '24h',
    },
    max_page_size: {
      doc: 'Largest `limit` a list of the admin API accepts (events, dead letters, audit entries).',
      format: 'nat',
      default: 500,
    },
    tls: {
      cert_file: {
        doc: 'PEM certificate (chain) of the admin HTTPS listener; with key_file, admin serves HTTPS instead of HTTP. Re-read on reload.',
        format: String,
        default: '',
      },
      key_file: { doc: 'PEM private key of the admin HTTPS listener.', format: String, default: '' },
      ca_file: {
        doc: 'PEM CA bundle for admin client certificates; when set, every admin client must present a certificate it signed (mutual TLS).',
        format: String,
        default: '',
      },
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
    accept_unknown_types_from: {
      doc: 'Source globs whose events of a type without a schema are stored unvalidated (POST /events); other sources get 422. Webhook sources set unknown_types themselves.',
      format: 'string-list',
      default: [],
    },
  },
  log: {
    level: { doc: 'Log level.', format: ['error', 'warn', 'info', 'debug'], default: 'info' },
  },
  health: {
    max_event_loop_lag: {
      doc: '/ready fails while the p99 event-loop delay (over about 10s) exceeds this: the process is too busy to answer in time.',
      format: 'duration-ms',
      default: '1s',
    },
    max_heap_used: {
      doc: '/ready fails while the V8 heap in use exceeds this: a share of the heap limit ("90%") or a size ("400MB").',
      format: 'heap-threshold',
      default: '90%',
    },
  },
  encryption: {
    active_key_id: {
      doc: 'Encrypt stored payloads (AES-256-GCM) with this key of encryption.keys; empty: payloads are stored in clear.',
      format: String,
      default: '',
    },
    keys: {
      doc: 'Payload keys [{id, key}], key a reference env:VAR or file:/path to 32 random bytes in base64. Keep retired keys listed while payloads encrypted with them remain. JSON in the environment.',
      format: 'encryption-keys',
      default: [],
    },
  },
  sources: {
    doc: 'Webhook senders of POST /webhooks/:source, by name: scheme, secrets (env:VAR / file:/path references), type_from, id_from, tolerance, unknown_types, static_fields; see docs/webhooks.md. JSON in the environment.',
    format: 'webhook-sources',
    default: {},
  },
};
