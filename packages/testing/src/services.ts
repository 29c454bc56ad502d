import { execFileSync } from 'node:child_process';

/**
 * Addresses of the real services the integration tests run against.
 *
 * Taken from the environment first (`npm test` starts the local services and sets them);
 * where they are not set and a Docker engine answers, global setup starts containers with
 * testcontainers and exports the same variables. With neither, the tests fail with a
 * message that says what to start.
 */
export interface TestServices {
  /** A Postgres URL whose user may create databases; its database part is ignored. */
  readonly postgresUrl: string;
  readonly amqpUrl: string;
  readonly kafkaBrokers: string[];
}

export const SERVICE_ENV = {
  postgres: 'TEST_DATABASE_URL',
  rabbitmq: 'TEST_AMQP_URL',
  kafka: 'TEST_KAFKA_BROKERS',
} as const;

const HOW_TO_START: Record<keyof typeof SERVICE_ENV, string> = {
  postgres: 'start PostgreSQL and set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres',
  rabbitmq: 'start RabbitMQ (rabbitmq-server -detached) and set TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672',
  kafka: 'start Kafka (bash deploy/local/kafka.sh start) and set TEST_KAFKA_BROKERS=127.0.0.1:9092',
};

export class MissingServiceError extends Error {
  override readonly name = 'MissingServiceError';
}

function required(service: keyof typeof SERVICE_ENV): string {
  const value = process.env[SERVICE_ENV[service]];
  if (!value) {
    throw new MissingServiceError(
      `${SERVICE_ENV[service]} is not set and no Docker engine is available for testcontainers: ` +
        `${HOW_TO_START[service]} (or simply run \`npm test\`, which starts the local services).`,
    );
  }
  return value;
}

export function postgresUrl(): string {
  return required('postgres');
}

export function amqpUrl(): string {
  return required('rabbitmq');
}

export function kafkaBrokers(): string[] {
  return required('kafka')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}
