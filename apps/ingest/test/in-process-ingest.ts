import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadConfig } from '@orchestron/config';
import { notifyOutbox } from '@orchestron/db';
import { createLogger, createRegistry, ingestMetrics } from '@orchestron/observability';
import { SchemaRegistry } from '@orchestron/schemas';
import type { TestDatabase } from '@orchestron/testing';
import { createIngestApp, type IngestSettings } from '../src/app';
import { OutboxNotifier } from '../src/outbox-notifier';
import { ApiKeyCache, createServer, type ServerTimeouts } from '@orchestron/http';

/** A webhook source that needs no signature, takes its type from the body's `type`, and accepts types without a schema. */
export const OPEN_SOURCE = JSON.stringify({
  open: { scheme: 'none', type_from: { pointer: '/type' }, unknown_types: 'accept' },
});

export const baseSettings: IngestSettings = {
  maxPayloadBytes: 64 * 1024,
  maxBatchSize: 100,
  rateLimit: 0,
  rateLimitBurst: 0,
  trustProxy: false,
  requireApiKey: false,
  maxClockSkewMs: 300_000,
  routing: {
    broker: 'rabbitmq',
    default_topic: 'events',
    default_exchange: 'events',
    default_routing_key: '#',
    rules: [],
  },
};

export interface InProcessIngest {
  url: string;
  server: http.Server;
  stop(): Promise<void>;
}

/**
 * Ingest's app on its real server (createServer: timeouts included) in this process, on a free
 * loopback port, with the repository's schemas and an `open` webhook source.
 */
export async function startInProcessIngest(
  database: TestDatabase,
  overrides: Partial<IngestSettings> = {},
  timeouts?: ServerTimeouts,
): Promise<InProcessIngest> {
  const logger = createLogger({ service: 'ingest', silent: !process.env.TEST_LOGS });
  const registry = createRegistry('ingest');
  const apiKeys = new ApiKeyCache(database.db, logger, { refreshMs: 60_000, flushMs: 60_000 });
  await apiKeys.start();
  const sources = loadConfig({ env: { ORCHESTRON_SOURCES: OPEN_SOURCE } }).sources;
  const app = createIngestApp({
    db: database.db,
    notifier: new OutboxNotifier(() => notifyOutbox(database.db), logger),
    apiKeys,
    schemas: SchemaRegistry.loadFromDirectory(path.join(__dirname, '../../../schemas')),
    logger,
    registry,
    metrics: ingestMetrics(registry),
    settings: { ...baseSettings, webhookSources: sources, ...overrides },
  });
  const server = createServer(app, { cert_file: '', key_file: '', ca_file: '' }, timeouts) as http.Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await apiKeys.stop();
    },
  };
}

/** Rows in events and outbox. */
export async function rowCounts(database: TestDatabase): Promise<{ events: number; outbox: number }> {
  const result = await database.db.raw<{ rows: Array<{ events: string; outbox: string }> }>(
    'select (select count(*) from events) as events, (select count(*) from outbox) as outbox',
  );
  const row = result.rows[0];
  return { events: Number(row?.events), outbox: Number(row?.outbox) };
}
