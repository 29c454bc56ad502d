import convict from 'convict';
import { parseDuration } from './formats';

/**
 * The broker topology the relay declares at start: Kafka topics (`broker.kafka.topics`) and
 * RabbitMQ exchanges, queues and bindings (`broker.rabbitmq.topology.*`). Each is a list, so
 * convict can load it from YAML as it is, and JSON text in the environment.
 *
 * Validation lists every problem with its path (e.g. `broker.rabbitmq.topology.queues[1].type`);
 * a valid configuration is then resolved with the defaults filled in (resolveBrokerTopology).
 */

/** One Kafka topic as configured (normalised). */
export interface KafkaTopicConfig {
  name: string;
  /** Absent: broker.kafka.topic_partitions. Existing topics with fewer get partitions added. */
  partitions?: number;
  /** Absent: broker.kafka.replication_factor. Applies when the topic is created. */
  replication_factor?: number;
  /** Topic-level settings (`max.message.bytes`, `retention.ms`...), values as Kafka's strings. */
  config: Record<string, string>;
}

export const RABBITMQ_EXCHANGE_TYPES = ['topic', 'direct', 'fanout', 'headers'] as const;
export const RABBITMQ_QUEUE_TYPES = ['classic', 'quorum'] as const;

export interface RabbitMqExchangeConfig {
  name: string;
  /** Default topic. */
  type: (typeof RABBITMQ_EXCHANGE_TYPES)[number];
  /** Default true: survives a broker restart. */
  durable: boolean;
}

export interface RabbitMqQueueConfig {
  name: string;
  /** Default classic; quorum queues are replicated and always durable. */
  type: (typeof RABBITMQ_QUEUE_TYPES)[number];
  /** Default true. */
  durable: boolean;
  /** Where messages that expire, overflow or are rejected go (`x-dead-letter-exchange`). */
  dead_letter_exchange?: string;
  /** Their routing key there (`x-dead-letter-routing-key`); needs dead_letter_exchange. */
  dead_letter_routing_key?: string;
  /** Milliseconds a message may wait in the queue (`x-message-ttl`; "10m" in the config). */
  message_ttl?: number;
  /** Most messages the queue holds; the oldest are dropped or dead-lettered (`x-max-length`). */
  max_length?: number;
}

export interface RabbitMqBindingConfig {
  queue: string;
  exchange: string;
  /** Default "#": everything, on a topic exchange (fanout exchanges ignore it). */
  routing_key: string;
}

/** Kafka's legal topic names. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const TOPIC_SETTING = /^[a-z0-9]+(\.[a-z0-9]+)*$/;
/** AMQP names: a short string; these characters keep them readable in logs and URLs. */
const AMQP_NAME = /^[A-Za-z0-9._:/-]{1,255}$/;

type Entry = Record<string, unknown>;

/** Checks every item of a list with `checkItem`; problems name `<path>[i].<key>`. */
function checkList(
  value: unknown,
  path: string,
  shape: string,
  checkItem: (item: Entry, at: string, problems: string[]) => void,
): string[] {
  // A mapping in the file where the list belongs: convict merges its keys into the default
  // list ([] with a `name` property), which would otherwise pass for an empty list.
  const mergedMapping = Array.isArray(value) && Object.keys(value).some((key) => !/^\d+$/.test(key));
  if (!Array.isArray(value) || mergedMapping) return [`${path}: must be a list of ${shape}`];
  const problems: string[] = [];
  value.forEach((item: unknown, i) => {
    const at = `${path}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) problems.push(`${at}: must be ${shape}`);
    else checkItem(item as Entry, at, problems);
  });
  return problems;
}

function unknownKeys(item: Entry, at: string, allowed: readonly string[], problems: string[]): void {
  for (const key of Object.keys(item)) {
    if (!allowed.includes(key)) problems.push(`${at}.${key}: unknown key (${allowed.join(', ')})`);
  }
}

function positiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

function checkDuplicates(value: unknown, path: string, keyOf: (item: Entry) => string | null): string[] {
  if (!Array.isArray(value)) return [];
  const seen = new Map<string, number>();
  const problems: string[] = [];
  value.forEach((item: unknown, i) => {
    if (typeof item !== 'object' || item === null) return;
    const key = keyOf(item as Entry);
    if (key === null) return;
    const first = seen.get(key);
    if (first !== undefined) problems.push(`${path}[${i}]: the same as ${path}[${first}]`);
    else seen.set(key, i);
  });
  return problems;
}

const TOPIC_KEYS = ['name', 'partitions', 'replication_factor', 'config'] as const;

export function checkKafkaTopics(value: unknown, path = 'broker.kafka.topics'): string[] {
  const problems = checkList(value, path, '{name, partitions, replication_factor, config}', (t, at, out) => {
    unknownKeys(t, at, TOPIC_KEYS, out);
    if (typeof t.name !== 'string' || !TOPIC_NAME.test(t.name)) {
      out.push(`${at}.name: a Kafka topic name (1-249 letters, digits, . _ -)`);
    }
    if (t.partitions !== undefined && !positiveInteger(t.partitions)) out.push(`${at}.partitions: an integer ≥ 1`);
    if (t.replication_factor !== undefined && !positiveInteger(t.replication_factor)) {
      out.push(`${at}.replication_factor: an integer ≥ 1`);
    }
    if (t.config === undefined) return;
    if (typeof t.config !== 'object' || t.config === null || Array.isArray(t.config)) {
      out.push(`${at}.config: a mapping of topic settings, e.g. {"max.message.bytes": "1048588"}`);
      return;
    }
    for (const [name, setting] of Object.entries(t.config as Entry)) {
      if (!TOPIC_SETTING.test(name)) out.push(`${at}.config.${name}: not a Kafka topic setting name`);
      else if (!['string', 'number', 'boolean'].includes(typeof setting)) {
        out.push(`${at}.config.${name}: must be a string, number or boolean`);
      }
    }
  });
  return [...problems, ...checkDuplicates(value, path, (t) => (typeof t.name === 'string' ? t.name : null))];
}

const EXCHANGE_KEYS = ['name', 'type', 'durable'] as const;

export function checkRabbitMqExchanges(value: unknown, path = 'broker.rabbitmq.topology.exchanges'): string[] {
  const problems = checkList(value, path, '{name, type, durable}', (e, at, out) => {
    unknownKeys(e, at, EXCHANGE_KEYS, out);
    if (typeof e.name !== 'string' || !AMQP_NAME.test(e.name)) {
      out.push(`${at}.name: an exchange name (1-255 letters, digits, . _ : / -)`);
    } else if (e.name.startsWith('amq.')) {
      out.push(`${at}.name: names starting "amq." are reserved by RabbitMQ (bind to them instead)`);
    }
    if (e.type !== undefined && !(RABBITMQ_EXCHANGE_TYPES as readonly unknown[]).includes(e.type)) {
      out.push(`${at}.type: one of ${RABBITMQ_EXCHANGE_TYPES.join(', ')}`);
    }
    if (e.durable !== undefined && typeof e.durable !== 'boolean') out.push(`${at}.durable: true or false`);
  });
  return [...problems, ...checkDuplicates(value, path, (e) => (typeof e.name === 'string' ? e.name : null))];
}

const QUEUE_KEYS = [
  'name',
  'type',
  'durable',
  'dead_letter_exchange',
  'dead_letter_routing_key',
  'message_ttl',
  'max_length',
] as const;

export function checkRabbitMqQueues(value: unknown, path = 'broker.rabbitmq.topology.queues'): string[] {
  const problems = checkList(value, path, `{${QUEUE_KEYS.join(', ')}}`, (q, at, out) => {
    unknownKeys(q, at, QUEUE_KEYS, out);
    if (typeof q.name !== 'string' || !AMQP_NAME.test(q.name)) {
      out.push(`${at}.name: a queue name (1-255 letters, digits, . _ : / -)`);
    } else if (q.name.startsWith('amq.')) {
      out.push(`${at}.name: names starting "amq." are reserved by RabbitMQ`);
    }
    if (q.type !== undefined && !(RABBITMQ_QUEUE_TYPES as readonly unknown[]).includes(q.type)) {
      out.push(`${at}.type: one of ${RABBITMQ_QUEUE_TYPES.join(', ')}`);
    }
    if (q.durable !== undefined && typeof q.durable !== 'boolean') out.push(`${at}.durable: true or false`);
    if (q.type === 'quorum' && q.durable === false) out.push(`${at}.durable: quorum queues are always durable`);
    if (q.dead_letter_exchange !== undefined) {
      // '' is the default exchange: dead letters then go to the queue named by the routing key.
      if (typeof q.dead_letter_exchange !== 'string' || q.dead_letter_exchange.length > 255) {
        out.push(`${at}.dead_letter_exchange: an exchange name`);
      }
    }
    if (q.dead_letter_routing_key !== undefined) {
      if (typeof q.dead_letter_routing_key !== 'string' || q.dead_letter_routing_key.length > 255) {
        out.push(`${at}.dead_letter_routing_key: a routing key of at most 255 characters`);
      } else if (q.dead_letter_exchange === undefined) {
        out.push(`${at}.dead_letter_routing_key: needs dead_letter_exchange`);
      }
    }
    if (q.message_ttl !== undefined) {
      try {
        parseDuration(q.message_ttl);
      } catch {
        out.push(`${at}.message_ttl: a duration such as "10m" or "30s", or milliseconds`);
      }
    }
    if (q.max_length !== undefined && !(typeof q.max_length === 'number' && Number.isInteger(q.max_length))) {
      out.push(`${at}.max_length: an integer ≥ 0`);
    } else if (typeof q.max_length === 'number' && q.max_length < 0) {
      out.push(`${at}.max_length: an integer ≥ 0`);
    }
  });
  return [...problems, ...checkDuplicates(value, path, (q) => (typeof q.name === 'string' ? q.name : null))];
}

const BINDING_KEYS = ['queue', 'exchange', 'routing_key'] as const;

export function checkRabbitMqBindings(value: unknown, path = 'broker.rabbitmq.topology.bindings'): string[] {
  const problems = checkList(value, path, '{queue, exchange, routing_key}', (b, at, out) => {
    unknownKeys(b, at, BINDING_KEYS, out);
    if (typeof b.queue !== 'string' || !AMQP_NAME.test(b.queue)) out.push(`${at}.queue: a queue name`);
    if (typeof b.exchange !== 'string' || !AMQP_NAME.test(b.exchange)) {
      out.push(`${at}.exchange: an exchange name (the default exchange "" cannot be bound)`);
    }
    if (b.routing_key !== undefined && (typeof b.routing_key !== 'string' || b.routing_key.length > 255)) {
      out.push(`${at}.routing_key: a string of at most 255 characters`);
    }
  });
  return [
    ...problems,
    ...checkDuplicates(value, path, (b) => JSON.stringify([b.queue, b.exchange, b.routing_key ?? '#'])),
  ];
}

function normalizeKafkaTopic(t: Entry): KafkaTopicConfig {
  const config = Object.fromEntries(Object.entries((t.config ?? {}) as Entry).map(([k, v]) => [k, String(v)]));
  return {
    name: t.name as string,
    ...(t.partitions !== undefined ? { partitions: t.partitions as number } : {}),
    ...(t.replication_factor !== undefined ? { replication_factor: t.replication_factor as number } : {}),
    config,
  };
}

function normalizeExchange(e: Entry): RabbitMqExchangeConfig {
  return {
    name: e.name as string,
    type: (e.type ?? 'topic') as RabbitMqExchangeConfig['type'],
    durable: (e.durable ?? true) as boolean,
  };
}

function normalizeQueue(q: Entry): RabbitMqQueueConfig {
  return {
    name: q.name as string,
    type: (q.type ?? 'classic') as RabbitMqQueueConfig['type'],
    durable: (q.durable ?? true) as boolean,
    ...(q.dead_letter_exchange !== undefined ? { dead_letter_exchange: q.dead_letter_exchange as string } : {}),
    ...(q.dead_letter_routing_key !== undefined
      ? { dead_letter_routing_key: q.dead_letter_routing_key as string }
      : {}),
    ...(q.message_ttl !== undefined ? { message_ttl: parseDuration(q.message_ttl) } : {}),
    ...(q.max_length !== undefined ? { max_length: q.max_length as number } : {}),
  };
}

function normalizeBinding(b: Entry): RabbitMqBindingConfig {
  return { queue: b.queue as string, exchange: b.exchange as string, routing_key: (b.routing_key ?? '#') as string };
}

/**
 * An error whose lines each name their full path already: convict would otherwise prefix the
 * first with the key and append the whole value.
 */
class PathedProblems extends Error {
  get fullName(): undefined {
    return undefined;
  }
  set fullName(_ignored: unknown) {}
  get value(): undefined {
    return undefined;
  }
  set value(_ignored: unknown) {}
}

function listFormat(name: string, check: (value: unknown) => string[]): void {
  convict.addFormat({
    name,
    validate: (value: unknown) => {
      const problems = check(value);
      if (problems.length > 0) throw new PathedProblems(problems.join('\n'));
    },
    // convict coerces only text (environment variables): JSON there.
    coerce: (value: unknown) => {
      try {
        return JSON.parse(value as string) as unknown;
      } catch {
        return value; // validation says it is not a list
      }
    },
  });
}

/**
 * Fills in the defaults of the validated topology lists, in place: durations in
 * milliseconds, Kafka settings as strings. Called by the loader once validation passed.
 */
export function resolveBrokerTopology(broker: {
  kafka: { topics: unknown[] };
  rabbitmq: { topology: { exchanges: unknown[]; queues: unknown[]; bindings: unknown[] } };
}): void {
  broker.kafka.topics = (broker.kafka.topics as Entry[]).map(normalizeKafkaTopic);
  const topology = broker.rabbitmq.topology;
  topology.exchanges = (topology.exchanges as Entry[]).map(normalizeExchange);
  topology.queues = (topology.queues as Entry[]).map(normalizeQueue);
  topology.bindings = (topology.bindings as Entry[]).map(normalizeBinding);
}

let registered = false;

/** Adds the topology formats to convict; called once before a schema is built. */
export function registerBrokerTopologyFormats(): void {
  if (registered) return;
  registered = true;
  listFormat('kafka-topics', checkKafkaTopics);
  listFormat('rabbitmq-exchanges', checkRabbitMqExchanges);
  listFormat('rabbitmq-queues', checkRabbitMqQueues);
  listFormat('rabbitmq-bindings', checkRabbitMqBindings);
}
