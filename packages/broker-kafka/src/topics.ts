import { ConfigResourceTypes, type Admin, type Kafka } from 'kafkajs';
import type { BrokerLogger } from '@orchestron/broker';
import { classifyKafkaError, protocolErrorType, unavailable } from './errors';

/** A topic the operator declared, with its own settings (relay: `broker.kafka.topics`). */
export interface KafkaTopicSpec {
  readonly name: string;
  /** Partitions to create it with; an existing topic with fewer gets partitions added. */
  readonly partitions?: number;
  /** Replication factor to create it with; a difference on an existing topic is logged. */
  readonly replicationFactor?: number;
  /** Topic-level settings (`max.message.bytes`...); differences on an existing topic are logged. */
  readonly config?: Readonly<Record<string, string>>;
}

/**
 * Creates topics through the admin API, once per topic for the publisher's lifetime (not
 * per batch): the declared ones (`specs`) with their settings, and, when `createUndeclared`,
 * any other topic the publisher uses, with the defaults.
 *
 * A declared topic that exists already is brought in line where that is safe and otherwise
 * reported: fewer partitions than declared get partitions added (never removed: that would
 * lose data); a different replication factor or topic setting is logged as drift, not
 * changed, since altering it under a running system is an operator's decision.
 *
 * A topic the cluster does not let us create (no ACL, a policy, auto-creation off by design)
 * is logged and not tried again: publishing then tells whether it exists. Only a connection
 * failure leaves the topic to be tried again on the next call.
 */
export class TopicCreator {
  private readonly ensured = new Map<string, Promise<void>>();
  private readonly specs: ReadonlyMap<string, KafkaTopicSpec>;
  private admin: Admin | null = null;
  private adminConnected: Promise<void> | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: {
      readonly numPartitions?: number;
      readonly replicationFactor?: number;
      /** Also create topics that are not declared, on first use. */
      readonly createUndeclared?: boolean;
      readonly specs?: readonly KafkaTopicSpec[];
      readonly logger: BrokerLogger;
    },
  ) {
    this.specs = new Map((settings.specs ?? []).map((spec) => [spec.name, spec]));
  }

  /** The declared topics' names. */
  get declared(): string[] {
    return [...this.specs.keys()];
  }

  /** Rejects with BrokerUnavailableError when the cluster cannot be reached. */
  async ensure(topics: Iterable<string>): Promise<void> {
    const wanted = [...new Set(topics)].filter((t) => this.specs.has(t) || this.settings.createUndeclared !== false);
    await Promise.all(wanted.map((topic) => this.ensureOne(topic)));
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    this.adminConnected = null;
    await admin?.disconnect().catch(() => undefined);
  }

  private ensureOne(topic: string): Promise<void> {
    let ensured = this.ensured.get(topic);
    if (!ensured) {
      ensured = this.create(topic);
      this.ensured.set(topic, ensured);
      ensured.catch(() => this.ensured.delete(topic));
    }
    return ensured;
  }

  private async create(topic: string): Promise<void> {
    const admin = await this.connectedAdmin();
    const spec = this.specs.get(topic);
    try {
      const created = await admin.createTopics({
        topics: [
          {
            topic,
            // -1: the broker's default (CreateTopics v4+, Kafka 2.4+).
            numPartitions: spec?.partitions ?? this.settings.numPartitions ?? -1,
            replicationFactor: spec?.replicationFactor ?? this.settings.replicationFactor ?? -1,
            configEntries: Object.entries(spec?.config ?? {}).map(([name, value]) => ({ name, value })),
          },
        ],
        waitForLeaders: true,
      });
      if (created) {
        this.settings.logger.info('created Kafka topic', spec ? { topic, ...describeSpec(spec) } : { topic });
      } else if (spec) {
        await this.reconcile(admin, spec);
      }
    } catch (error) {
      if (classifyKafkaError(error) === 'unavailable' && protocolErrorType(error) === null) {
        // No answer from the cluster at all: try again next time.
        await this.close();
        throw unavailable(`could not create topic "${topic}"`, error);
      }
      this.settings.logger.warn(
        spec
          ? 'could not create or check declared Kafka topic'
          : 'could not create Kafka topic; publishing to it anyway',
        { topic, error: error instanceof Error ? error.message : String(error) },
      );
    }
  }

  /** An existing declared topic: add missing partitions, report every other difference. */
  private async reconcile(admin: Admin, spec: KafkaTopicSpec): Promise<void> {
    const topic = spec.name;
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics[0]?.partitions ?? [];
    if (spec.partitions !== undefined && partitions.length < spec.partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic, count: spec.partitions }] });
      this.settings.logger.info('added partitions to Kafka topic', {
        topic,
        from: partitions.length,
        to: spec.partitions,
      });
    } else if (spec.partitions !== undefined && partitions.length > spec.partitions) {
      this.settings.logger.warn('Kafka topic has more partitions than declared; partitions are never removed', {
        topic,
        declared: spec.partitions,
        actual: partitions.length,
      });
    }
    const replicas = partitions[0]?.replicas.length;
    if (spec.replicationFactor !== undefined && replicas !== undefined && replicas !== spec.replicationFactor) {
      this.settings.logger.warn('Kafka topic replication factor differs from the declared one; not changed', {
        topic,
        declared: spec.replicationFactor,
        actual: replicas,
      });
    }
    const declared = Object.entries(spec.config ?? {});
    if (declared.length === 0) return;
    const described = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: declared.map(([name]) => name) }],
      includeSynonyms: false,
    });
    const actual = new Map(
      (described.resources[0]?.configEntries ?? []).map((entry) => [entry.configName, entry.configValue]),
    );
    for (const [setting, value] of declared) {
      if (actual.get(setting) === value) continue;
      this.settings.logger.warn('Kafka topic setting differs from the declared one; not changed', {
        topic,
        setting,
        declared: value,
        actual: actual.get(setting) ?? null,
      });
    }
  }

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin;
      this.adminConnected = admin.connect();
    }
    const admin = this.admin;
    try {
      await this.adminConnected;
      return admin;
    } catch (error) {
      await this.close();
      throw unavailable('admin client could not connect', error);
    }
  }
}

function describeSpec(spec: KafkaTopicSpec): Record<string, unknown> {
  return {
    ...(spec.partitions !== undefined ? { partitions: spec.partitions } : {}),
    ...(spec.replicationFactor !== undefined ? { replicationFactor: spec.replicationFactor } : {}),
    ...(spec.config && Object.keys(spec.config).length > 0 ? { config: spec.config } : {}),
  };
}
