import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { SERVICE_ENV } from './services';

const started: StartedTestContainer[] = [];

/**
 * Starts the missing services in containers (only where a Docker engine exists) and exports
 * their addresses in the same variables a developer would set. Ryuk removes the containers
 * when the test run ends.
 */
export async function startContainers(services: ReadonlyArray<keyof typeof SERVICE_ENV>): Promise<void> {
  for (const service of services) {
    if (service === 'postgres') {
      const c = await new GenericContainer('postgres:15-alpine')
        .withEnvironment({ POSTGRES_PASSWORD: 'postgres' })
        .withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
        .start();
      started.push(c);
      process.env[SERVICE_ENV.postgres] =
        `postgres://postgres:postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`;
    } else if (service === 'rabbitmq') {
      const c = await new GenericContainer('rabbitmq:3.13-alpine')
        .withExposedPorts(5672)
        .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
        .start();
      started.push(c);
      process.env[SERVICE_ENV.rabbitmq] = `amqp://guest:guest@${c.getHost()}:${c.getMappedPort(5672)}`;
    } else {
      // Kafka advertises its listener address to clients, so the host port must equal the
      // container port: bind 9092 on the host to 9092 in the container.
      const c = await new GenericContainer('apache/kafka:4.4.0')
        .withExposedPorts({ container: 9092, host: 9092 })
        .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
        .start();
      started.push(c);
      process.env[SERVICE_ENV.kafka] = `${c.getHost()}:9092`;
    }
  }
}
