import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import type { RetryPolicy } from './backoff';
import type { OrchestronEvent } from './event';
import { KafkaSource, type KafkaSourceOptions } from './kafka-source';
import { errorMessage, silentLogger, type ConsumerLogger } from './logger';
import { createConsumerMetrics } from './metrics';
import { EventProcessor, type DeadLetterTarget, type EventHandler, type Outcome } from './processor';
import { RabbitMqSource, type RabbitMqSourceOptions } from './rabbitmq-source';
import { RetentionLoop, type RetentionOptions } from './retention';
import type { Source } from './source';
import { createConsumerTables } from './sql/create-tables';

export interface ConsumerOptions<TData = unknown> {
  /**
   * The consumer's name: its inbox namespace (two consumers of one database with different
   * names each handle every event once), its metrics label and, on Kafka, the default group.
   */
  readonly name: string;
  /** The consumer's own Postgres, where the handler writes and the inbox lives. */
  readonly pool: Pool;
  readonly handler: EventHandler<TData>;
  /** Where the events come from: a RabbitMQ queue or a Kafka topic. */
  readonly source: RabbitMqSourceOptions | KafkaSourceOptions;
  /**
   * Handlers running at once: RabbitMQ deliveries (among the `prefetch` ones received), Kafka
   * partitions. Default 10.
   */
  readonly concurrency?: number;
  /**
   * `key` (default): events with the same partition key are handled one after the other, and
   * one that arrives after a newer event of its key was handled is reported (metric
   * `orchestron_consumer_out_of_order_total` and a warning) and handed to the handler with
   * `context.outOfOrder`. `none`: no per-key sequencing or check.
   */
  readonly ordering?: 'key' | 'none';
  readonly retry?: RetryPolicy;
  /** Where an event goes after its last failed attempt. Default the dead-letter table. */
  readonly deadLetter?: DeadLetterTarget;
  readonly retention?: RetentionOptions;
  /** The Prometheus registry the metrics are defined on (a fresh one when absent). */
  readonly registry?: Registry;
  readonly logger?: ConsumerLogger;
  /** Create the library's tables at start (createConsumerTables). Default false. */
  readonly createTables?: boolean;
  /** How long `stop` lets handlers in flight finish. Default 30 000. */
  readonly shutdownTimeoutMs?: number;
  /**
   * Called after an event's transaction committed (or it was skipped or dead-lettered) and
   * before its message is acknowledged. For tracing; the tests use it to crash right there.
   */
  readonly afterCommit?: (event: OrchestronEvent, outcome: Outcome) => Promise<void> | void;
}

export interface ConsumerHealth {
  readonly ok: boolean;
  readonly broker: { readonly ok: boolean; readonly detail: string };
  readonly database: { readonly ok: boolean; readonly detail: string };
}

export interface OrchestronConsumer {
  /** Creates the tables if asked, connects and starts consuming. */
  start(): Promise<void>;
  /** Graceful: stop taking messages, finish and acknowledge those in flight, close. Idempotent. */
  stop(): Promise<void>;
  /** Broker session up and the database answering (within 2 s). */
  health(): Promise<ConsumerHealth>;
  readonly registry: Registry;
}

export function createConsumer<TData = unknown>(options: ConsumerOptions<TData>): OrchestronConsumer {
  if (!/^[\w.:-]{1,200}$/.test(options.name)) throw new TypeError('name: 1-200 letters, digits, _ . : -');
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError('concurrency must be a positive integer');
  const deadLetter = options.deadLetter ?? { kind: 'table' };
  const registry = options.registry ?? new Registry();
  const logger = options.logger ?? silentLogger;
  const metrics = createConsumerMetrics(registry);
  const stopController = new AbortController();
  let source: Source | null = null;
  const processor = new EventProcessor({
    consumer: options.name,
    pool: options.pool,
    handler: options.handler as EventHandler<never>,
    retry: options.retry ?? {},
    orderingGuard: (options.ordering ?? 'key') === 'key',
    deadLetter,
    publishDeadLetter: (event, error) => (source as Source).publishDeadLetter(event, error),
    metrics,
    logger,
    ...(options.afterCommit ? { afterCommit: options.afterCommit } : {}),
  });
  const context = {
    consumer: options.name,
    processor,
    concurrency,
    orderByKey: (options.ordering ?? 'key') === 'key',
    stopping: stopController.signal,
    logger,
    metrics,
    deadLetterDestination: deadLetter.kind === 'broker' ? deadLetter.destination : null,
  };
  source =
    options.source.broker === 'rabbitmq'
      ? new RabbitMqSource(options.source, context)
      : new KafkaSource(options.source, context);
  const retention = new RetentionLoop(options.pool, options.name, options.retention ?? {}, metrics, logger);
  let stopping: Promise<void> | null = null;

  return {
    registry,
    async start() {
      if (options.createTables) await createConsumerTables(options.pool);
      await (source as Source).start();
      retention.start(stopController.signal);
      logger.info('consumer started', { consumer: options.name, broker: options.source.broker });
    },
    stop() {
      stopping ??= (async () => {
        const deadline = Date.now() + (options.shutdownTimeoutMs ?? 30_000);
        stopController.abort();
        await (source as Source).stop(deadline);
        await retention.stopped();
        logger.info('consumer stopped', { consumer: options.name });
      })();
      return stopping;
    },
    async health() {
      const broker = (source as Source).health();
      const database = await databaseHealth(options.pool);
      return { ok: broker.ok && database.ok, broker, database };
    },
  };
}

async function databaseHealth(pool: Pool): Promise<{ ok: boolean; detail: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      pool.query('select 1'),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 2 s')), 2_000))),
    ]);
    return { ok: true, detail: 'answering' };
  } catch (error) {
    return { ok: false, detail: errorMessage(error) };
  } finally {
    clearTimeout(timer);
  }
}
