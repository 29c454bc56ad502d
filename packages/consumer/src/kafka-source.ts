import { Kafka, logLevel, type Consumer, type KafkaConfig, type KafkaMessage, type Producer } from 'kafkajs';
import { decodeKafkaMessage } from './decode-kafka';
import { attributesOf, UndecodableMessageError, type OrchestronEvent } from './event';
import { errorMessage } from './logger';
import { KeyedScheduler } from './ordering';
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
 * Consumes a Kafka topic in a consumer group. Handlers run `concurrency` at a time across the
 * partitions' batches; with ordering by key, messages of one record key (the partition key)
 * one after the other in offset order, other keys of the same partition beside them. An offset
 * is resolved only once the processor is done with it and with every earlier message of the
 * partition (committed, skipped as a duplicate or dead-lettered), and committed at the end of
 * the batch and every `commitIntervalMs` within it; a crash before that makes the group deliver
 * it again, and the inbox skips it if it had been committed.
 *
 * Retries of a failing handler hold its key (that is what keeps the key's order) and the
 * commit point of its partition; after the last one the event is dead-lettered and both move
 * on. Other keys go on meanwhile.
 */
export class KafkaSource implements Source {
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private producer: Producer | null = null;
  private state: SourceHealth = { ok: false, detail: 'not started' };
  private stopping: Promise<void> | null = null;
  private readonly scheduler: KeyedScheduler;

  constructor(
    private readonly options: KafkaSourceOptions,
    private readonly context: SourceContext,
  ) {
    this.scheduler = new KeyedScheduler(context.concurrency);
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
        const { messages } = batch;
        const done = messages.map(() => false);
        let resolved = 0;
        let abandoned = false;
        const tasks = messages.map((message, index) =>
          this.scheduler.push(this.context.orderByKey ? (message.key?.toString('utf8') ?? null) : null, async () => {
            if (abandoned || !isRunning() || isStale() || this.context.stopping.aborted) {
              abandoned = true;
              return;
            }
            if ((await this.handle(message, batch.topic, batch.partition)) === 'abandoned') {
              abandoned = true;
              return;
            }
            done[index] = true;
            // An offset is resolved once it and every one before it are done: a commit never
            // skips a message still being handled.
            while (resolved < messages.length && done[resolved]) {
              const offset = (messages[resolved] as KafkaMessage).offset;
              resolveOffset(offset);
              this.context.metrics.lag.set(lagLabels, Math.max(0, Number(batch.highWatermark) - Number(offset) - 1));
              resolved++;
            }
          }),
        );
        // Within the batch, offsets resolved so far are committed every commitIntervalMs.
        await whileHeartbeating(Promise.all(tasks), async () => {
          await heartbeat();
          await commitOffsetsIfNecessary();
        });
        await commitOffsetsIfNecessary();
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

/**
 * Waits for `work`, calling `beat` every second meanwhile: a heartbeat (a long batch must not
 * look like a dead member of the group) and the commit of what is resolved.
 */
async function whileHeartbeating(work: Promise<unknown>, beat: () => Promise<void>): Promise<void> {
  let finished = false;
  const settled = work.then(
    () => (finished = true),
    () => (finished = true),
  );
  while (!finished) {
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    if (!finished) await beat();
  }
  await work;
}
