import type { Admin, Kafka } from 'kafkajs';
import type { BrokerLogger } from '@orchestron/broker';
import { classifyKafkaError, protocolErrorType, unavailable } from './errors';

/**
 * Creates topics through the admin API, once per topic for the publisher's lifetime (not
 * per batch). A topic the cluster does not let us create (no ACL, a policy, auto-creation
 * off by design) is logged and not tried again: publishing then tells whether it exists.
 * Only a connection failure leaves the topic to be tried again on the next call.
 */
export class TopicCreator {
  private readonly ensured = new Map<string, Promise<void>>();
  private admin: Admin | null = null;
  private adminConnected: Promise<void> | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: {
      readonly numPartitions?: number;
      readonly replicationFactor?: number;
      readonly logger: BrokerLogger;
    },
  ) {}

  /** Rejects with BrokerUnavailableError when the cluster cannot be reached. */
  async ensure(topics: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(topics)].map((topic) => this.ensureOne(topic)));
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
    try {
      const created = await admin.createTopics({
        topics: [
          {
            topic,
            // -1: the broker's default (CreateTopics v4+, Kafka 2.4+).
            numPartitions: this.settings.numPartitions ?? -1,
            replicationFactor: this.settings.replicationFactor ?? -1,
          },
        ],
        waitForLeaders: true,
      });
      if (created) this.settings.logger.info('created Kafka topic', { topic });
    } catch (error) {
      if (classifyKafkaError(error) === 'unavailable' && protocolErrorType(error) === null) {
        // No answer from the cluster at all: try again next time.
        await this.close();
        throw unavailable(`could not create topic "${topic}"`, error);
      }
      this.settings.logger.warn('could not create Kafka topic; publishing to it anyway', {
        topic,
        error: error instanceof Error ? error.message : String(error),
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
