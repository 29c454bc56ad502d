import type { Knex } from 'knex';
import { generateApiKey, insertApiKey } from '@orchestron/db';
import { createTestDatabase, startApp, type AppProcess, type TestDatabase } from '@orchestron/testing';

/** Creates an API key allowed every source and type, and returns the key. */
export async function insertUnscopedKey(db: Knex, name: string): Promise<string> {
  const material = generateApiKey();
  await insertApiKey(db, {
    name,
    keyHash: material.hash,
    keyPrefix: material.prefix,
    roles: ['ingest'],
    allowedSources: ['*'],
    allowedTypes: ['*'],
  });
  return material.key;
}

/** The resident memory of an app, from its /metrics. */
export async function rssBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_resident_memory_bytes'));
  return Number(line?.split(' ').pop());
}

export const FUZZ_WEBHOOK_SECRET = 'fuzz-webhook-secret-7f3a9c';

export interface HostileTarget {
  database: TestDatabase;
  ingest: AppProcess;
  /** A key allowed every source and type. */
  apiKey: string;
  stop(): Promise<void>;
}

/**
 * A database of its own and a real ingest process on it for hostile requests: no request rate
 * limit, 64 KB bodies, batches of 100, a `github` webhook source signed with
 * FUZZ_WEBHOOK_SECRET; `env` adds or overrides settings.
 */
export async function startHostileTarget(name: string, env: Record<string, string> = {}): Promise<HostileTarget> {
  const database = await createTestDatabase(name);
  const apiKey = await insertUnscopedKey(database.db, name);
  const ingest = await startApp('ingest', {
    DATABASE_URL: database.url,
    ORCHESTRON_API_RATE_LIMIT: '0',
    ORCHESTRON_API_MAX_PAYLOAD_SIZE: '64KB',
    ORCHESTRON_API_MAX_BATCH_SIZE: '100',
    ORCHESTRON_SOURCES: JSON.stringify({ github: { scheme: 'github', secrets: [`literal:${FUZZ_WEBHOOK_SECRET}`] } }),
    ...env,
  });
  return {
    database,
    ingest,
    apiKey,
    stop: async () => {
      await ingest.kill();
      await database.drop();
    },
  };
}

/** Bodies that parse as JSON but are no event or batch of events (400 or 422 each). */
export const WRONG_SHAPES: readonly string[] = [
  'null',
  '0',
  '"x"',
  'true',
  '[null]',
  '[[]]',
  '{"type":5,"data":{}}',
  '{"type":"","data":{}}',
  '{"type":"a b","data":{}}',
  `{"type":"${'a'.repeat(300)}","data":{}}`,
  '{"type":"payment.succeeded","data":{},"time":"yesterday"}',
  '{"type":"payment.succeeded","data":{},"schema_version":-1}',
];
