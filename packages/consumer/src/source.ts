import type { EventProcessor } from './processor';
import type { ConsumerLogger } from './logger';
import type { ConsumerMetrics } from './metrics';
import type { OrchestronEvent } from './event';

/** A broker's side of the consumer: receive, hand to the processor, acknowledge. */
export interface Source {
  /** Connects and starts consuming; rejects when the first connection fails. */
  start(): Promise<void>;
  /**
   * Stops taking messages, lets the handlers in flight finish and acknowledges them, within
   * `deadline` (epoch ms); then closes. Messages not acknowledged by then are delivered again.
   */
  stop(deadline: number): Promise<void>;
  health(): SourceHealth;
  /** Publishes to the broker dead letter; only used when the dead letter is `broker`. */
  publishDeadLetter(event: OrchestronEvent, error: string): Promise<void>;
}

export interface SourceHealth {
  readonly ok: boolean;
  readonly detail: string;
}

/** What every source gets from the consumer. */
export interface SourceContext {
  readonly consumer: string;
  readonly processor: EventProcessor;
  readonly concurrency: number;
  /** Per-key sequential handling (RabbitMQ; Kafka is per partition anyway). */
  readonly orderByKey: boolean;
  /** Aborted when the consumer starts stopping: retry waits end, nothing new starts. */
  readonly stopping: AbortSignal;
  readonly logger: ConsumerLogger;
  readonly metrics: ConsumerMetrics;
  /** The broker dead letter's queue or topic, when the dead letter is `broker`. */
  readonly deadLetterDestination: string | null;
}

/** Resolves when `work` settles or the deadline passes, whichever is first. */
export async function untilDeadline(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>(
    (resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))),
  );
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
