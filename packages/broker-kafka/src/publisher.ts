import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import {
  BrokerUnavailableError,
  MessageRejectedError,
  silentLogger,
  type BrokerLogger,
  type OutboundMessage,
  type PublishResult,
  type Publisher,
} from '@orchestron/broker';
import { createKafka, retryOf } from './client';
import { classifyKafkaError, rejected, unavailable } from './errors';
import { toKafkaMessage } from './marshal';
import { DEFAULTS, type KafkaBrokerOptions } from './options';
import { TopicCreator } from './topics';

const OK: PublishResult = { ok: true };

/**
 * Publishes with an idempotent kafkajs producer (acks from all in-sync replicas): a message
 * is `ok` once the cluster has it, and a broker retry inside kafkajs cannot duplicate it.
 *
 * Calls run one at a time, in call order. kafkajs allows a single request in flight per
 * broker connection for the idempotent producer anyway (maxInFlightRequests: 1), so this
 * costs little, and it keeps the producer's sequence numbers simple and the order of
 * consecutive calls for one key intact, even when a call falls back to one-by-one sends.
 *
 * Per-message results: a produce request succeeds or fails as a whole, and a refused record
 * (e.g. larger than the topic's max.message.bytes, which limits the whole batch of a
 * partition) fails its request without saying which record. So a call sends each topic's
 * messages as one batch; when the broker refuses a record, that topic's messages are sent
 * again one by one, in order, which tells the refused from the rest. A batch the broker
 * refuses only for its total size thus still gets through, message by message.
 *
 * After any failure that is not a refusal the producer is rebuilt, and the next call
 * connects again: nothing can stay wedged after a broker restart.
 */
export class KafkaPublisher implements Publisher {
  private readonly kafka: Kafka;
  private readonly logger: BrokerLogger;
  private readonly topics: TopicCreator | null;
  private readonly requestTimeoutMs: number;
  private producer: { readonly producer: Producer; readonly connected: Promise<void> } | null = null;
  private healthy = false;
  /** The tail of the queue of calls: each call starts when the previous one has settled. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | null = null;

  constructor(private readonly options: KafkaBrokerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.kafka = createKafka(options);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    const specs = options.topicSpecs ?? [];
    this.topics =
      options.createTopics === false && specs.length === 0
        ? null
        : new TopicCreator(this.kafka, {
            ...(options.topicPartitions !== undefined ? { numPartitions: options.topicPartitions } : {}),
            ...(options.replicationFactor !== undefined ? { replicationFactor: options.replicationFactor } : {}),
            createUndeclared: options.createTopics !== false,
            specs,
            logger: this.logger,
          });
  }

  /** Connects the producer and creates (or checks) the declared topics and `topics`. */
  connect(): Promise<void> {
    if (this.closing) return Promise.reject(closedError());
    return this.enqueue(async () => {
      await this.connectedProducer();
      await this.topics?.ensure([...(this.options.topics ?? []), ...(this.topics?.declared ?? [])]);
    });
  }

  publish(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
    if (this.closing) return Promise.reject(closedError());
    if (messages.length === 0) return Promise.resolve([]);
    return this.enqueue(() => this.publishNow(messages));
  }

  /**
   * Connects the producer (after a failure, a new one: kafkajs fetches metadata and registers
   * the idempotent producer), in turn with the calls. During an outage this costs one more
   * connection attempt, with kafkajs's retries.
   */
  probe(): Promise<void> {
    if (this.closing) return Promise.reject(closedError());
    return this.enqueue(async () => {
      await this.connectedProducer();
    });
  }

  /** Whether the last connection attempt or publish worked; kafkajs has no cheaper signal. */
  isHealthy(): boolean {
    return this.healthy && !this.closing;
  }

  /** Waits for the calls already made, then disconnects. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.queue;
      await this.discardProducer();
      await this.topics?.close();
    })();
    return this.closing;
  }

  private enqueue<T>(call: () => Promise<T>): Promise<T> {
    const result = this.queue.then(call);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async publishNow(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
    const results = new Array<PublishResult>(messages.length);
    // Every record is built before anything is sent: one that cannot be built is its own
    // rejection, never a failure of the whole call.
    const byTopic = groupByTopic(messages, (index, error) => {
      results[index] = {
        ok: false,
        error: new MessageRejectedError(`cannot be made a Kafka record: ${error.message}`, {
          cause: error,
          reason: 'unbuildable',
        }),
      };
    });
    if (byTopic.size === 0) return results;
    const producer = await this.connectedProducer();
    if (this.topics) {
      // Declared topics too (done once, then cached): the cluster may have been away at start.
      await this.topics.ensure([...byTopic.keys(), ...this.topics.declared]).catch((error: unknown) => {
        this.healthy = false;
        throw error;
      });
    }
    for (const [topic, entries] of byTopic) {
      const outcome = await this.sendTopic(
        producer,
        topic,
        entries.map((e) => e.record),
      );
      if (outcome.length !== entries.length) {
        // Never report a message acknowledged that the broker did not acknowledge.
        throw new Error(`Kafka send returned ${outcome.length} results for ${entries.length} messages`);
      }
      entries.forEach((entry, i) => {
        results[entry.index] = outcome[i] as PublishResult;
      });
    }
    this.healthy = true;
    return results;
  }

  private async sendTopic(
    producer: Producer,
    topic: string,
    messages: readonly KafkaRecordOut[],
  ): Promise<PublishResult[]> {
    try {
      await this.send(producer, topic, messages);
      return messages.map(() => OK);
    } catch (error) {
      const failure = classifyKafkaError(error);
      if (failure === 'topic') return messages.map(() => ({ ok: false, error: rejected(error, topic) }));
      if (failure !== 'record') throw await this.failed(error);
      if (messages.length === 1) return [{ ok: false, error: rejected(error, topic) }];
      this.logger.debug('Kafka refused a record of the batch; sending one by one', {
        topic,
        count: messages.length,
        error: error instanceof Error ? error.message : String(error),
      });
      // The failed request may have been written on some partitions while kafkajs rolled
      // back the sequence numbers of all of them: a fresh producer session starts clean.
      await this.discardProducer();
      return this.sendOneByOne(await this.connectedProducer(), topic, messages);
    }
  }

  private async sendOneByOne(
    producer: Producer,
    topic: string,
    messages: readonly KafkaRecordOut[],
  ): Promise<PublishResult[]> {
    const results: PublishResult[] = [];
    for (const message of messages) {
      try {
        await this.send(producer, topic, [message]);
        results.push(OK);
      } catch (error) {
        const failure = classifyKafkaError(error);
        if (failure !== 'record' && failure !== 'topic') throw await this.failed(error);
        results.push({ ok: false, error: rejected(error, topic) });
      }
    }
    return results;
  }

  private async send(producer: Producer, topic: string, messages: readonly KafkaRecordOut[]): Promise<void> {
    await producer.send({
      topic,
      messages: [...messages],
      acks: -1,
      timeout: this.requestTimeoutMs,
    });
  }

  /** Not the messages' fault: rebuild the producer, and reject the call. */
  private async failed(error: unknown): Promise<BrokerUnavailableError> {
    this.healthy = false;
    await this.discardProducer();
    return unavailable('publish failed', error);
  }

  private async connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        // What kafkajs's idempotent producer needs to keep order across retries.
        maxInFlightRequests: 1,
        // Topics are created explicitly (createTopics); otherwise they must already exist.
        allowAutoTopicCreation: false,
        // Murmur2, as the Java client: a key lands on the same partition whoever produces it.
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: retryOf(this.options),
      });
      this.producer = { producer, connected: producer.connect() };
    }
    const { producer, connected } = this.producer;
    try {
      await connected;
    } catch (error) {
      this.healthy = false;
      await this.discardProducer();
      throw unavailable('could not connect', error, { unreachable: true });
    }
    this.healthy = true;
    return producer;
  }

  private async discardProducer(): Promise<void> {
    const current = this.producer;
    this.producer = null;
    await current?.producer.disconnect().catch(() => undefined);
  }
}

type KafkaRecordOut = ReturnType<typeof toKafkaMessage>;

/**
 * The records per topic, each with its message's index in the call, in call order; a message
 * whose record cannot be built goes to `unbuildable` instead.
 */
function groupByTopic(
  messages: readonly OutboundMessage[],
  unbuildable: (index: number, error: Error) => void,
): Map<string, { readonly index: number; readonly record: KafkaRecordOut }[]> {
  const byTopic = new Map<string, { index: number; record: KafkaRecordOut }[]>();
  messages.forEach((message, index) => {
    let record: KafkaRecordOut;
    try {
      record = toKafkaMessage(message);
    } catch (error) {
      unbuildable(index, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const entries = byTopic.get(message.destination);
    if (entries) entries.push({ index, record });
    else byTopic.set(message.destination, [{ index, record }]);
  });
  return byTopic;
}

function closedError(): BrokerUnavailableError {
  return new BrokerUnavailableError('Kafka publisher is closed');
}
