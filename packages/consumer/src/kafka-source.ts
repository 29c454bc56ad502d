import { Kafka, logLevel, type Consumer, type KafkaConfig, type KafkaMessage, type Producer } from 'kafkajs';
import { decodeKafkaMessage } from './decode-kafka';
import { attributesOf, UndecodableMessageError, type OrchestronEvent } from './event';
import { errorMessage } from './logger';
import { untilDeadline, type Source, type SourceContext, type SourceHealth } from './source';

export interface KafkaSourceOptions {
  readonly broker: 'kafka';
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Consumer group. Default: the consumer's name. */
  readonly groupId?: string;
  /** Where a group without committed offsets starts. Default true (the earliest offset): nothing published before the first start is skipped. */
  readonly fromBeginning?: boolean;
  readonly clientId?: string;
  readonly ssl?: KafkaConfig['ssl'];
  readonly sasl?: KafkaConfig['sasl'];
  /** Consumer group session timeout. Default 10 000. */
  readonly sessionTimeoutMs?: number;
  /**
   * Handled offsets are committed at the end of every batch and, within a long batch, at least
   * this often (ms), which bounds what a crash sends again. Default 1 000.
   */
  readonly commitIntervalMs?: number;
}

/**
 * Consumes a Kafka topic in a consumer group. Partitions are handled `concurrency` at a time,
 * each in offset order, one message after the other: since the partition key is the record
 * key, events of one key are handled in the order of their partition. A message's offset is
 * resolved only once the processor is done with it (committed, skipped as a duplicate or dead
 * lettered) and committed after the batch; a crash before that makes the group deliver it
 * again, and the inbox skips it if it had been committed.
 *
 * Retries of a failing handler hold its partition (that is what keeps the key order); after
 * the last one the event is dead-lettered and the partition moves on. Other partitions go on.
 */
export class KafkaSource implements Source {
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private producer: Producer | null = null;
  private state: SourceHealth = { ok: false, detail: 'not started' };
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly options: KafkaSourceOptions,
    private readonly context: SourceContext,
  ) {
    this.kafka = new Kafka({
      clientId: options.clientId ?? context.consumer,
      brokers: [...options.brokers],
      ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
      ...(options.sasl !== undefined ? { sasl: options.sasl } : {}),
      logLevel: logLevel.NOTHING,
    });
    this.consumer = this.kafka.consumer({
      groupId: options.groupId ?? context.consumer,
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      // Bounds how long a stop waits for the fetch in flight.
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
    });
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => {
      this.state = { ok: true, detail: `member of ${payload.groupId}` };
    });
    this.consumer.on(events.CRASH, ({ payload }) => {
      this.state = {
        ok: false,
        detail: `crashed: ${errorMessage(payload.error)}${payload.restart ? '; restarting' : ''}`,
      };
      context.logger.error('Kafka consumer crashed', {
        consumer: context.consumer,
        error: errorMessage(payload.error),
        restart: payload.restart,
      });
    });
    this.consumer.on(events.STOP, () => {
      this.state = { ok: false, detail: 'stopped' };
    });
  }

  async start(): Promise<void> {
    if (this.context.deadLetterDestination !== null) {
      this.producer = this.kafka.producer({ allowAutoTopicCreation: true });
      await this.producer.connect();
    }
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: this.options.commitIntervalMs ?? 1_000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.context.concurrency,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) => {
        const lagLabels = { consumer: this.context.consumer, partition: String(batch.partition) };
        for (const message of batch.messages) {
          if (!isRunning() || isStale() || this.context.stopping.aborted) break;
          const outcome = await this.handle(message, batch.topic, batch.partition);
          if (outcome === 'abandoned') break;
          resolveOffset(message.offset);
          this.context.metrics.lag.set(
            lagLabels,
            Math.max(0, Number(batch.highWatermark) - Number(message.offset) - 1),
          );
          await heartbeat();
          await commitOffsetsIfNecessary();
        }
      },
    });
  }

  stop(deadline: number): Promise<void> {
    this.stopping ??= (async () => {
      // disconnect() waits for the batch in flight (its handler finishes, its offsets are
      // committed), then leaves the group.
      const done = await untilDeadline(this.consumer.disconnect(), deadline);
      if (!done)
        this.context.logger.warn(
          'stop deadline reached with a batch in flight; its uncommitted messages will be redelivered',
        );
      await this.producer?.disconnect().catch(() => undefined);
    })();
    return this.stopping;
  }

  health(): SourceHealth {
    return this.state;
  }

  async publishDeadLetter(event: OrchestronEvent, error: string): Promise<void> {
    const topic = this.context.deadLetterDestination;
    if (!this.producer || topic === null) throw new Error('Kafka dead-letter producer is not connected');
    const headers: Record<string, string> = { ...event.headers };
    for (const [name, value] of Object.entries(attributesOf(event))) headers[`ce_${name}`] = value;
    if (event.datacontenttype !== null) headers['content-type'] = event.datacontenttype;
    if (event.eventId !== event.id) headers['orchestron-event-id'] = event.eventId;
    headers['x-orchestron-error'] = error.slice(0, 1_000);
    headers['x-orchestron-consumer'] = this.context.consumer;
    await this.producer.send({ topic, acks: -1, messages: [{ key: event.key, value: event.dataBytes, headers }] });
  }

  private async handle(message: KafkaMessage, topic: string, partition: number): Promise<'done' | 'abandoned'> {
    const { consumer, metrics, logger } = this.context;
    let event: OrchestronEvent;
    try {
      event = decodeKafkaMessage(message, topic, partition);
    } catch (error) {
      if (!(error instanceof UndecodableMessageError)) throw error;
      // Not an Orchestron event. Kafka cannot reject a record; it is skipped, loudly.
      metrics.events.inc({ consumer, outcome: 'undecodable' });
      logger.error('message is not an Orchestron event; skipped', {
        consumer,
        topic,
        partition,
        offset: message.offset,
        error: error.message,
      });
      return 'done';
    }
    metrics.inFlight.inc({ consumer });
    try {
      const outcome = await this.context.processor.process(event, this.context.stopping);
      return outcome === 'abandoned' ? 'abandoned' : 'done';
    } finally {
      metrics.inFlight.dec({ consumer });
    }
  }
}
