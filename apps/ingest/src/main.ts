#!/usr/bin/env node
import path from 'node:path';
import { ConfigError, ConfigReloader, configFileFrom, loadConfig, parseListenAddress } from '@orchestron/config';
import { createDatabase, notifyOutbox, PayloadCipher } from '@orchestron/db';
import {
  configReloadMetrics,
  createLogger,
  createRegistry,
  EventLoopLagMonitor,
  eventLoopLagCheck,
  heapUsedCheck,
  ingestMetrics,
  stopOnSignals,
} from '@orchestron/observability';
import { createIngestApp, type IngestDependencies } from './app';
import { ApiKeyCache, createServer } from '@orchestron/http';
import {
  configApplier,
  INGEST_RELOADABLE_KEYS,
  INGEST_UNUSED_KEYS,
  ingestSettings,
  loadSchemas,
} from './ingest-config';
import { OutboxNotifier } from './outbox-notifier';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const config = loadConfig({ argv });
  const logger = createLogger({ service: 'ingest', level: config.log.level });
  const schemas = loadSchemas(config);
  const db = createDatabase(config.database, 'orchestron-ingest', logger);
  const apiKeys = new ApiKeyCache(db, logger, {
    refreshMs: config.api.key_refresh_interval,
    flushMs: config.api.key_usage_flush_interval,
  });
  await apiKeys.start();
  const registry = createRegistry('ingest');
  // The configuration in effect, replaced by each successful reload (set below).
  let current = config;
  const lagMonitor = new EventLoopLagMonitor().start();
  const notifier = new OutboxNotifier(() => notifyOutbox(db), logger);
  const deps: IngestDependencies = {
    db,
    apiKeys,
    schemas,
    cipher: new PayloadCipher(config.encryption.keys, config.encryption.active_key_id || null),
    notifier,
    logger,
    registry,
    metrics: ingestMetrics(registry),
    settings: ingestSettings(config),
    readiness: [
      eventLoopLagCheck(lagMonitor, () => current.health.max_event_loop_lag),
      heapUsedCheck(() => current.health.max_heap_used),
    ],
  };
  const app = createIngestApp(deps);

  const { host, port } = parseListenAddress(config.api.address);
  const server = createServer(app, config.api.tls);
  // Longer than a load balancer's idle timeout, so it never reuses a socket we just closed.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  logger.info('ingest listening', {
    host,
    port,
    protocol: config.api.tls.cert_file ? 'https' : 'http',
    schemaTypes: schemas.types().length,
  });

  const configFile = configFileFrom(argv, process.env);
  const reloader = new ConfigReloader({
    initial: config,
    load: () => loadConfig({ argv }),
    reloadable: INGEST_RELOADABLE_KEYS,
    unused: INGEST_UNUSED_KEYS,
    apply: (next) => {
      configApplier({ deps, logger, server })(next);
      current = next;
    },
    files: configFile ? [configFile] : [],
    directories: () => [path.resolve(current.schemas.directory)],
    logger,
    metrics: configReloadMetrics(registry),
  });
  reloader.start();

  stopOnSignals({
    logger,
    timeoutMs: config.outbox.shutdown_timeout,
    stop: async () => {
      // Stop accepting; requests in flight finish (their transactions commit or roll back).
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await reloader.stop();
      lagMonitor.stop();
      await apiKeys.stop();
      await notifier.idle();
      await db.destroy();
    },
  });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`orchestron ingest: ${error.message}\n`);
  } else {
    process.stderr.write(`orchestron ingest: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(1);
});
