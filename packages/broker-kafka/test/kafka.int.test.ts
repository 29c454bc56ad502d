import type { Admin } from 'kafkajs';
import { describePublisherConformance } from '@orchestron/broker/conformance';
import { KafkaConsumer, KafkaPublisher } from '@orchestron/broker-kafka';
import { kafkaBrokers } from '@orchestron/testing/services';
import { FAST_FAILURE, connectAdmin, uniqueName } from './support/fixtures';

/** The conformance topics' max.message.bytes; the refused message is bigger. */
const MAX_MESSAGE_BYTES = 64 * 1024;

let admin: Admin;
beforeAll(async () => {
  admin = await connectAdmin();
});
afterAll(async () => {
  await admin.disconnect();
});

describePublisherConformance(
  'Kafka',
  {
    async create() {
      const destination = uniqueName('conformance');
      await admin.createTopics({
        topics: [
          {
            topic: destination,
            numPartitions: 3,
            replicationFactor: 1,
            configEntries: [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }],
          },
        ],
      });
      const publisher = new KafkaPublisher({ brokers: kafkaBrokers(), clientId: 'conformance-publisher' });
      const consumer = new KafkaConsumer({ brokers: kafkaBrokers(), clientId: 'conformance-consumer' });
      return {
        publisher,
        consumer,
        destination,
        async teardown() {
          await publisher.close();
          await consumer.close();
          await admin.deleteGroups([`${destination}.ack`]).catch(() => undefined);
          await admin.deleteTopics({ topics: [destination] });
        },
      };
    },
    rejectedMessage: (valid) => ({ ...valid, payload: Buffer.alloc(MAX_MESSAGE_BYTES + 1024, 'x') }),
    // Port 1: connection refused at once; one short retry.
    unreachablePublisher: () =>
      new KafkaPublisher({ brokers: ['127.0.0.1:1'], clientId: 'conformance-unreachable', ...FAST_FAILURE }),
  },
  { ordering: true, unreachableFailsWithinMs: 3_000 },
);
