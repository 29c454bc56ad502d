import { consumerSuite } from './consumer-suite';
import { kafkaHarness } from './harness';

describe('consuming a Kafka topic', () => {
  consumerSuite(kafkaHarness);
});
