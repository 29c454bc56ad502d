#!/usr/bin/env node
import type { Server } from 'node:http';
import type { Publisher } from '@orchestron/broker';
import { ConfigError, loadConfig, parseListenAddress } from '@orchestron/config';
import { connectionConfig, createDatabase, PayloadCipher, ping, schemaReadinessCheck } from '@orchestron/db';
import {
  createLogger,
  createRegistry,
  errorFields,
  EventLoopLagMonitor,
  eventLoopLagCheck,
  heapUsedCheck,
  relayMetrics,
  startOpsServer,
} from '@orchestron/observability';
import { brokersOf } from '@orchestron/routing';
import { refreshBacklogGauges } from './backlog-gauge';
import { startRetentionCleanup } from './retention-cleanup';
import { ClaimLoop } from './claim-loop';
import { startConfigReload } from './config-reload';
import { claimStatementFor } from './claim-statement';
import { createPublisher } from './create-publisher';
import { InstrumentedPublisher } from './instrumented-publisher';
import { IsolatingPublisher } from './isolating-publisher';
import { OutboxListener } from './outbox-listener';
import { batchProcessor } from './process-batch';
import { reportUnboundDestinations } from './unbound-destinations';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const config = loadConfig({ argv });
  const logger = createLogger({ service: 'relay', level: config.log.level });
  // One connection per claim loop (each holds its transaction while publishing) plus room
  // for the backlog gauge, the retention cleanup and readiness checks.
  // Every broker an event can be routed to gets its own publisher and its own claim loops,
  // so an outage of one broker never holds up the other's messages.
  const brokers = brokersOf({ broker: config.broker.type, ...config.routing });
  const loopCount = config.outbox.concurrency * brokers.length;
  const db = createDatabase(
    { ...config.database, max_connections: Math.max(config.database.max_connections, loopCount + 3) },
    'orchestron-relay',
    logger,
  );
  const registry = createRegistry('relay');
  const metrics = relayMetrics(registry);
  const publishers = new Map<string, Publisher>(
    brokers.map((broker) => [
      broker,
      new InstrumentedPublisher(
        new IsolatingPublisher(
          createPublisher(broker, config.broker, logger, { reconnectBackoffMaxMs: config.outbox.broker_backoff_max }),
          { warn: (message, meta) => logger.warn(message, { broker, ...meta }) },
        ),
        metrics,
        broker,
      ),
    ]),
  );
  for (const [broker, publisher] of publishers) {
    try {
      await publisher.connect();
    } catch (error) {
      // Not fatal: the loops back off and the adapter reconnects when the broker is back.
      logger.warn('broker not reachable at start; will keep trying', { broker, ...errorFields(error) });
    }
  }
  if (publishers.has('rabbitmq')) reportUnboundDestinations(config, metrics, logger);

  // Only the relay decrypts stored payloads, to publish them.
  const cipher =
    config.encryption.keys.length > 0
      ? new PayloadCipher(config.encryption.keys, config.encryption.active_key_id || null)
      : null;
  const loops = [...publishers].flatMap(([broker, publisher]) => {
    const processBatch = batchProcessor({
      db,
      publisher,
      logger,
      metrics,
      cipher,
      claim: claimStatementFor(config.outbox),
      settings: {
        broker,
        batchSize: config.outbox.batch_size,
        maxRetries: config.routing.max_retries,
        retryBaseDelayMs: config.outbox.retry_base_delay,
        retryMaxDelayMs: config.outbox.retry_max_delay,
      },
    });
    return Array.from(
      { length: config.outbox.concurrency },
      (_, index) =>
        new ClaimLoop({
          processBatch,
          batchSize: config.outbox.batch_size,
          repeatAfterAnyRows: config.outbox.ordering === 'partition_key',
          pollIntervalMs: config.outbox.process_interval,
          backoff: { initialMs: 500, maxMs: config.outbox.broker_backoff_max },
          onError: (error, retryInMs) =>
            logger.warn('batch failed; rows stay pending and no attempt was counted', {
              broker,
              loop: index,
              retryInMs,
              ...errorFields(error),
            }),
        }),
    );
  });
  const listener = new OutboxListener(
    connectionConfig(config.database, 'orchestron-relay-listener') as never,
    () => loops.forEach((loop) => loop.wake()),
    logger,
  );
  await listener.start();
  const stopGauges = refreshBacklogGauges(db, metrics, config.outbox.stats_interval, { served: brokers, logger });
  const cleanup = startRetentionCleanup(db, config.retention, metrics, logger);

  const reloader = startConfigReload({ argv, initial: config, logger, registry });
  const lagMonitor = new EventLoopLagMonitor().start();
  const { host, port } = parseListenAddress(config.relay.address);
  const ops: Server = await startOpsServer({
    host,
    port,
    registry,
    readiness: [
      { name: 'database', check: () => ping(db) },
      // Not ready while the database lacks this build's migrations: every batch would fail.
      schemaReadinessCheck(db),
      ...[...publishers].map(([broker, publisher]) => ({
        name: broker,
        check: async () => {
          if (!publisher.isHealthy()) throw new Error(`${broker} is not connected`);
        },
      })),
      eventLoopLagCheck(lagMonitor, () => reloader.current().health.max_event_loop_lag),
      heapUsedCheck(() => reloader.current().health.max_heap_used),
    ],
  });
  loops.forEach((loop) => loop.start());
  logger.info('relay started', {
    brokers,
    loops: loops.length,
    batchSize: config.outbox.batch_size,
    ordering: config.outbox.ordering,
    port,
  });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      logger.warn('second signal, exiting now; unsettled batches roll back and are claimed again', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down: no new claims, finishing batches in flight', { signal });
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting, unsettled batches roll back and are claimed again');
      process.exit(1);
    }, config.outbox.shutdown_timeout);
    deadline.unref();
    await Promise.all([...loops.map((loop) => loop.stop()), cleanup?.stop()]);
    stopGauges();
    await reloader.stop();
    lagMonitor.stop();
    await listener.close();
    await Promise.all([...publishers.values()].map((p) => p.close()));
    await db.destroy();
    await new Promise<void>((resolve) => {
      ops.close(() => resolve());
      ops.closeAllConnections();
    });
    clearTimeout(deadline);
    logger.info('stopped');
  };
  const stopOn = (signal: string) => () =>
    void stop(signal).catch((error: unknown) => {
      logger.error('shutdown failed', errorFields(error));
      process.exit(1);
    });
  process.on('SIGTERM', stopOn('SIGTERM'));
  process.on('SIGINT', stopOn('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`orchestron relay: ${error.message}\n`);
  else process.stderr.write(`orchestron relay: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
