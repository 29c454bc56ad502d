#!/usr/bin/env node
import { ConfigError, ConfigReloader, configFileFrom, loadConfig, parseListenAddress } from '@orchestron/config';
import { createDatabase, PayloadCipher, schemaReadinessCheck } from '@orchestron/db';
import { ApiKeyCache, createServer } from '@orchestron/http';
import {
  configReloadMetrics,
  createLogger,
  createRegistry,
  EventLoopLagMonitor,
  eventLoopLagCheck,
  heapUsedCheck,
  httpMetrics,
  stopOnSignals,
} from '@orchestron/observability';
import { createReplayStore, ReplayRunner } from '@orchestron/replay';
import { adminConfigApplier, ADMIN_RELOADABLE_KEYS, ADMIN_UNUSED_KEYS, adminSettings } from './admin-config';
import { createAdminApp } from './app';
import { replayMetrics } from './replay-metrics';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const config = loadConfig({ argv });
  const logger = createLogger({ service: 'admin', level: config.log.level });
  const db = createDatabase(config.database, 'orchestron-admin', logger);
  const apiKeys = new ApiKeyCache(db, logger, {
    refreshMs: config.api.key_refresh_interval,
    flushMs: config.api.key_usage_flush_interval,
  });
  await apiKeys.start();
  const registry = createRegistry('admin');
  let current = config;
  const lagMonitor = new EventLoopLagMonitor().start();
  const settings = adminSettings(config);
  // Replays run here, in the background of the API that starts them (replay.concurrency 0: elsewhere).
  const replayRunner =
    config.replay.concurrency > 0
      ? new ReplayRunner({
          store: createReplayStore(db),
          logger,
          batchSize: config.replay.batch_size,
          concurrency: config.replay.concurrency,
          pollInterval: config.replay.poll_interval,
          lease: config.replay.lease,
          maxPending: config.replay.max_pending,
          onBatch: replayMetrics(registry),
        })
      : undefined;
  const app = createAdminApp({
    db,
    apiKeys,
    logger,
    registry,
    metrics: httpMetrics(registry),
    settings,
    cipher: new PayloadCipher(config.encryption.keys, config.encryption.active_key_id || null),
    readiness: [
      // Not ready while the database lacks this build's migrations, as ingest and relay.
      schemaReadinessCheck(db),
      eventLoopLagCheck(lagMonitor, () => current.health.max_event_loop_lag),
      heapUsedCheck(() => current.health.max_heap_used),
    ],
    ...(replayRunner ? { replayRunner } : {}),
  });

  const { host, port } = parseListenAddress(config.admin.address);
  const server = createServer(app, config.admin.tls);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  logger.info('admin listening', { host, port, protocol: config.admin.tls.cert_file ? 'https' : 'http' });
  replayRunner?.start();

  const configFile = configFileFrom(argv, process.env);
  const reloader = new ConfigReloader({
    initial: config,
    load: () => loadConfig({ argv }),
    reloadable: ADMIN_RELOADABLE_KEYS,
    unused: ADMIN_UNUSED_KEYS,
    apply: (next) => {
      adminConfigApplier({ settings, logger, server })(next);
      current = next;
    },
    files: configFile ? [configFile] : [],
    logger,
    metrics: configReloadMetrics(registry),
  });
  reloader.start();

  stopOnSignals({
    logger,
    // Requests in flight finish within it (bulk dead-letter actions run in short batches).
    timeoutMs: config.outbox.shutdown_timeout,
    stop: async () => {
      // Stop accepting; requests in flight finish (each batch's transaction commits or rolls back).
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      // The batches in flight commit; the replays held are given back and resume at once elsewhere.
      await replayRunner?.stop(config.outbox.shutdown_timeout / 2);
      await reloader.stop();
      lagMonitor.stop();
      await apiKeys.stop();
      await db.destroy();
    },
  });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`orchestron admin: ${error.message}\n`);
  } else {
    process.stderr.write(`orchestron admin: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(1);
});
