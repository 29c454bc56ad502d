#!/usr/bin/env node
import http from 'node:http';
import path from 'node:path';
import { ConfigError, loadConfig, parseListenAddress } from '@orchestron/config';
import { createDatabase } from '@orchestron/db';
import { createLogger, createRegistry, ingestMetrics } from '@orchestron/observability';
import { SchemaRegistry } from '@orchestron/schemas';
import { createIngestApp } from './app';
import { ApiKeyCache } from './auth/api-key-cache';

async function main(): Promise<void> {
  const config = loadConfig({ argv: process.argv.slice(2) });
  const logger = createLogger({ service: 'ingest', level: config.log.level });
  const schemas = SchemaRegistry.loadFromDirectory(path.resolve(config.schemas.directory), {
    lists: config.schemas.lists,
    maxClockSkewMs: config.schemas.max_clock_skew,
  });
  const db = createDatabase(config.database, 'orchestron-ingest');
  const apiKeys = new ApiKeyCache(db, logger, {
    refreshMs: config.api.key_refresh_interval,
    flushMs: config.api.key_usage_flush_interval,
  });
  await apiKeys.start();
  const registry = createRegistry('ingest');
  const app = createIngestApp({
    db,
    apiKeys,
    schemas,
    logger,
    registry,
    metrics: ingestMetrics(registry),
    settings: {
      maxPayloadBytes: config.api.max_payload_size,
      maxBatchSize: config.api.max_batch_size,
      rateLimit: config.api.rate_limit,
      rateLimitBurst: config.api.rate_limit_burst,
      trustProxy: config.api.trust_proxy,
      requireApiKey: config.api.require_api_key,
      maxClockSkewMs: config.schemas.max_clock_skew,
      webhookSources: config.sources,
      routing: { broker: config.broker.type, ...config.routing },
    },
  });

  const { host, port } = parseListenAddress(config.api.address);
  const server = http.createServer(app);
  // Longer than a load balancer's idle timeout, so it never reuses a socket we just closed.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  logger.info('ingest listening', { host, port, schemaTypes: schemas.types().length });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      logger.warn('second signal, exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal });
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed, exiting');
      process.exit(1);
    }, config.outbox.shutdown_timeout).unref();
    // Stop accepting; requests in flight finish (their transactions commit or roll back).
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await apiKeys.stop();
    await db.destroy();
    clearTimeout(deadline);
    logger.info('stopped');
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`orchestron ingest: ${error.message}\n`);
  } else {
    process.stderr.write(`orchestron ingest: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(1);
});
