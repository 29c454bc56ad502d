import { consumerSuite } from './consumer-suite';
import { rabbitMqHarness } from './harness';

describe('consuming a RabbitMQ queue', () => {
  consumerSuite(rabbitMqHarness);
});
