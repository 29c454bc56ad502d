import {
  BrokerUnavailableError,
  MessageRejectedError,
  type OutboundMessage,
  type PublishResult,
  type Publisher,
} from '@orchestron/broker';
import { PublisherDecorator } from './publisher-decorator';

/** The logger method the decorator uses. */
export interface IsolationLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** Failed calls in a row after which a failing batch is split instead of put back. */
const DEFAULT_ISOLATE_AFTER = 2;

/**
 * Wraps a Publisher so that no message can hold the others hostage. A call that fails as a
 * whole (`BrokerUnavailableError`, or any other exception) is normally an outage: the batch
 * goes back and the loop backs off. But one message can make every call that carries it fail
 * that way (the adapter cannot tell it from an outage, e.g. the broker closes the channel over
 * it), and then its batch, and every batch after it, would fail for ever.
 *
 * So once calls have failed `isolateAfter` times in a row, the decorator asks the broker
 * whether it answers (`probe`). If it does not, the call fails as before: an outage. If it
 * does, the batch is published in halves, and a failing half in halves again, down to single
 * messages: the halves that go through are settled as the broker answered them, and a message
 * that fails alone while the broker answers is rejected (`MessageRejectedError`, reason
 * `isolated`: an attempt is counted, and after `routing.max_retries` it is dead-lettered with
 * the error). The probe is asked again before anything is rejected, and when every message of
 * a batch of several fails alone the call fails as an outage instead, so that a broker going
 * down in the middle costs no attempts.
 *
 * Cost: a batch with one such message takes about 2·log2(n) extra calls and log2(n) probes
 * (a part of several that fails is split further only after a probe); an outage costs one
 * probe per failed call once `isolateAfter` calls failed (RabbitMQ: nothing while its
 * reconnect backoff runs), except where the adapter could not connect at all
 * (`BrokerUnavailableError.unreachable`: Kafka's failed connection attempts).
 */
export class IsolatingPublisher extends PublisherDecorator {
  private failedCalls = 0;
  private readonly isolateAfter: number;

  constructor(
    inner: Publisher,
    private readonly logger: IsolationLogger,
    options: { isolateAfter?: number } = {},
  ) {
    super(inner);
    this.isolateAfter = options.isolateAfter ?? DEFAULT_ISOLATE_AFTER;
  }

  override async publish(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
    try {
      const results = await this.inner.publish(messages);
      this.failedCalls = 0;
      return results;
    } catch (error) {
      this.failedCalls += 1;
      // A broker that could not be reached at all is an outage, whatever the batch holds: no
      // probe (with Kafka one costs another connection attempt of several seconds).
      if (error instanceof BrokerUnavailableError && error.unreachable) throw error;
      if (this.failedCalls < this.isolateAfter || !(await this.brokerAnswers())) throw error;
      const results = await this.isolate(messages, error);
      this.failedCalls = 0;
      return results;
    }
  }

  private async brokerAnswers(): Promise<boolean> {
    try {
      await this.inner.probe();
      return true;
    } catch {
      return false;
    }
  }

  /** Publishes `messages`, which failed together with `error`, in ever smaller parts. */
  private async isolate(messages: readonly OutboundMessage[], error: unknown): Promise<PublishResult[]> {
    const results = new Array<PublishResult>(messages.length);
    /** Messages that failed alone, with their error. */
    const suspects = new Map<number, unknown>();
    const split = async (start: number, end: number, failure: unknown): Promise<void> => {
      if (end - start === 1) {
        suspects.set(start, failure);
        return;
      }
      const middle = start + Math.ceil((end - start) / 2);
      for (const [from, to] of [
        [start, middle],
        [middle, end],
      ] as const) {
        try {
          const part = await this.inner.publish(messages.slice(from, to));
          part.forEach((result, i) => {
            results[from + i] = result;
          });
        } catch (partFailure) {
          // Several messages failed together: split further only while the broker answers.
          if (to - from > 1 && !(await this.brokerAnswers())) throw partFailure;
          await split(from, to, partFailure);
        }
      }
    };
    await split(0, messages.length, error);

    if (suspects.size === 0) return results;
    const everyOneFailed = messages.length > 1 && suspects.size === messages.length;
    if (everyOneFailed || !(await this.brokerAnswers())) throw [...suspects.values()].pop() ?? error;
    for (const [index, failure] of suspects) {
      const message = messages[index] as OutboundMessage;
      const reason = failure instanceof Error ? failure.message : String(failure);
      this.logger.warn('row isolated from its batch: it fails alone while the broker answers; rejected', {
        eventId: message.id,
        destination: message.destination,
        routingKey: message.routingKey,
        batchSize: messages.length,
        error: reason,
      });
      results[index] = {
        ok: false,
        error: new MessageRejectedError(`isolated: publishing it alone fails while the broker answers (${reason})`, {
          cause: failure,
          reason: 'isolated',
        }),
      };
    }
    return results;
  }
}
