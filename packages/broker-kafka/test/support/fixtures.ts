import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { kafkaBrokers } from '@orchestron/testing/services';

/** Names unique to this test run, so runs (and engineers) never share topics or groups. */
const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}.${RUN}.${counter}`;
}

/** A raw kafkajs admin client for setting up and cleaning up behind the adapter. */
export async function connectAdmin(): Promise<Admin> {
  const admin = new Kafka({
    brokers: kafkaBrokers(),
    clientId: 'broker-kafka-tests',
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  return admin;
}

/** Short timeouts and retries, so that a test against a dead address fails in about a second. */
export const FAST_FAILURE = {
  connectionTimeoutMs: 500,
  retry: { retries: 1, initialRetryTimeMs: 100, maxRetryTimeMs: 200 },
} as const;
