import type { Pool, PoolClient } from 'pg';
import { RETRY_DEFAULTS, retryDelayMs, sleep, type RetryPolicy } from './backoff';
import type { OrchestronEvent } from './event';
import { errorMessage, type ConsumerLogger } from './logger';
import type { ConsumerMetrics } from './metrics';
import { arrivedOutOfOrder, isOrderable } from './ordering';
import { advanceKeyPosition } from './sql/advance-key-position';
import { insertDeadLetter } from './sql/insert-dead-letter';
import { recordInInbox } from './sql/record-in-inbox';

export interface HandlerContext {
  /** 1 for the first try, then 2, 3, ... while the handler keeps failing. */
  readonly attempt: number;
  /** The ordering guard saw a newer event of this key handled before this one. */
  readonly outOfOrder: boolean;
}

/**
 * Handles one event inside the transaction `tx` (a pg client in `BEGIN`): every write the
 * handler makes through `tx` commits together with the inbox record, or not at all. Throwing
 * rolls everything back; the event is retried, then dead-lettered. Do not commit or roll back
 * `tx` yourself, and do not keep it after the promise settles.
 */
export type EventHandler<TData = unknown> = (
  event: OrchestronEvent<TData>,
  tx: PoolClient,
  context: HandlerContext,
) => Promise<void>;

/** Where events go whose handler kept failing. */
export type DeadLetterTarget =
  /** `orchestron_consumer_dead_letters` in the consumer's database, in the inbox's transaction. */
  | { readonly kind: 'table' }
  /**
   * A RabbitMQ queue or a Kafka topic: the message is published there (with its headers and an
   * `x-orchestron-error` header) and confirmed before the inbox records the event.
   */
  | { readonly kind: 'broker'; readonly destination: string };

/** What became of a message; the source acknowledges all but `abandoned`. */
export type Outcome = 'handled' | 'duplicate' | 'dead_lettered' | 'abandoned';

export interface ProcessorOptions {
  readonly consumer: string;
  readonly pool: Pool;
  readonly handler: EventHandler<never>;
  readonly retry: RetryPolicy;
  readonly orderingGuard: boolean;
  readonly deadLetter: DeadLetterTarget;
  /** Publishes to the broker dead letter (given by the source when deadLetter is `broker`). */
  readonly publishDeadLetter?: (event: OrchestronEvent, error: string) => Promise<void>;
  readonly metrics: ConsumerMetrics;
  readonly logger: ConsumerLogger;
  /** Called after the transaction committed and before the message is acknowledged. */
  readonly afterCommit?: (event: OrchestronEvent, outcome: Outcome) => Promise<void> | void;
}

/** A failure thrown by the handler, as opposed to one of the inbox's own statements. */
class HandlerFailure extends Error {
  constructor(cause: unknown) {
    super(errorMessage(cause), { cause });
  }
}

/**
 * The broker-neutral core: runs one event through the inbox and the handler, retries, dead
 * letters and reports; the sources (RabbitMQ, Kafka) only receive and acknowledge.
 *
 * A failure of the consumer's own database (connection lost, Postgres restarting) is not the
 * event's fault: it is retried with the same backoff without counting an attempt, for as long
 * as the consumer runs. When the consumer stops meanwhile the outcome is `abandoned`: the
 * message is not acknowledged and the broker delivers it again later.
 */
export class EventProcessor {
  private readonly maxAttempts: number;

  constructor(private readonly options: ProcessorOptions) {
    this.maxAttempts = Math.max(1, options.retry.maxAttempts ?? RETRY_DEFAULTS.maxAttempts);
  }

  async process(event: OrchestronEvent, stopping: AbortSignal): Promise<Outcome> {
    const { metrics, consumer } = this.options;
    const endTimer = metrics.handleDuration.startTimer({ consumer });
    let failures = 0;
    let infrastructureFailures = 0;
    let reportedOutOfOrder = false;
    for (;;) {
      try {
        const result = await this.tryOnce(event, failures + 1, reportedOutOfOrder);
        reportedOutOfOrder ||= result.outOfOrder;
        if (result.outcome === 'handled') endTimer();
        metrics.events.inc({ consumer, outcome: result.outcome });
        await this.notifyAfterCommit(event, result.outcome);
        return result.outcome;
      } catch (error) {
        if (error instanceof OutOfOrderRetry) reportedOutOfOrder = true;
        const handlerError = error instanceof HandlerFailure ? error : null;
        if (handlerError) {
          failures++;
          metrics.handlerFailures.inc({ consumer });
          this.options.logger.warn(
            'event handler failed',
            this.context(event, { attempt: failures, error: handlerError.message }),
          );
          if (failures >= this.maxAttempts) {
            const outcome = await this.deadLetterUntilDone(event, failures, handlerError.message, stopping);
            if (outcome !== 'abandoned') {
              metrics.events.inc({ consumer, outcome });
              await this.notifyAfterCommit(event, outcome);
            }
            return outcome;
          }
          if (!(await sleep(retryDelayMs(this.options.retry, failures), stopping))) return 'abandoned';
        } else {
          infrastructureFailures++;
          this.options.logger.error(
            'inbox transaction failed; retrying',
            this.context(event, { error: errorMessage(error) }),
          );
          if (!(await sleep(retryDelayMs(this.options.retry, infrastructureFailures), stopping))) return 'abandoned';
        }
      }
    }
  }

  /** One transaction: inbox record, ordering check, handler, commit. */
  private async tryOnce(
    event: OrchestronEvent,
    attempt: number,
    alreadyReported: boolean,
  ): Promise<{ outcome: 'handled' | 'duplicate'; outOfOrder: boolean }> {
    const { consumer } = this.options;
    return this.inTransaction(async (tx) => {
      const fresh = await recordInInbox(tx, { ...identity(consumer, event), outcome: 'handled' });
      if (!fresh) return { outcome: 'duplicate' as const, outOfOrder: false, commit: false };
      let outOfOrder = false;
      if (this.options.orderingGuard && event.key !== null && isOrderable(event.eventId)) {
        const previous = await advanceKeyPosition(tx, consumer, event.key, event.eventId);
        outOfOrder = arrivedOutOfOrder(previous, event.eventId);
        if (outOfOrder && !alreadyReported) this.reportOutOfOrder(event, previous as string);
      }
      try {
        await this.options.handler(event as OrchestronEvent<never>, tx, { attempt, outOfOrder });
      } catch (error) {
        throw outOfOrder ? new OutOfOrderRetry(error) : new HandlerFailure(error);
      }
      return { outcome: 'handled' as const, outOfOrder, commit: true };
    });
  }

  private async deadLetterUntilDone(
    event: OrchestronEvent,
    attempts: number,
    error: string,
    stopping: AbortSignal,
  ): Promise<Outcome> {
    for (let failures = 1; ; failures++) {
      try {
        return await this.deadLetter(event, attempts, error);
      } catch (cause) {
        this.options.logger.error(
          'dead-lettering failed; retrying',
          this.context(event, { error: errorMessage(cause) }),
        );
        if (!(await sleep(retryDelayMs(this.options.retry, failures), stopping))) return 'abandoned';
      }
    }
  }

  /**
   * Records the event in the inbox as dead-lettered (so later copies are skipped) and stores it
   * in the dead-letter table, or, with a broker dead letter, publishes it there first: a crash
   * between the publish and the commit publishes it again (at least once), never loses it.
   */
  private async deadLetter(event: OrchestronEvent, attempts: number, error: string): Promise<Outcome> {
    const { consumer, deadLetter } = this.options;
    if (deadLetter.kind === 'broker') {
      if (!this.options.publishDeadLetter) throw new Error('no dead-letter publisher');
      await this.options.publishDeadLetter(event, error);
    }
    const { outcome } = await this.inTransaction(async (tx) => {
      const fresh = await recordInInbox(tx, { ...identity(consumer, event), outcome: 'dead_lettered' });
      if (!fresh) return { outcome: 'duplicate' as const, commit: false };
      if (deadLetter.kind === 'table') await insertDeadLetter(tx, consumer, event, attempts, error);
      return { outcome: 'dead_lettered' as const, commit: true };
    });
    if (outcome === 'dead_lettered') {
      this.options.logger.error(
        'event dead-lettered after its handler kept failing',
        this.context(event, { attempts, error }),
      );
    }
    return outcome;
  }

  /** BEGIN, work, COMMIT (or ROLLBACK when the work says so or throws). */
  private async inTransaction<T extends { commit: boolean }>(work: (tx: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.options.pool.connect();
    let broken: unknown;
    try {
      await client.query('begin');
      let result: T;
      try {
        result = await work(client);
      } catch (error) {
        await client.query('rollback').catch((rollbackError: unknown) => (broken = rollbackError));
        throw error;
      }
      await client.query(result.commit ? 'commit' : 'rollback');
      return result;
    } catch (error) {
      broken ??= error instanceof HandlerFailure ? undefined : error;
      throw error;
    } finally {
      // A client whose connection failed is destroyed rather than handed out again.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /** The afterCommit hook; its failure is logged, never taken for the event's (it is settled). */
  private async notifyAfterCommit(event: OrchestronEvent, outcome: Outcome): Promise<void> {
    try {
      await this.options.afterCommit?.(event, outcome);
    } catch (error) {
      this.options.logger.error('afterCommit hook failed', this.context(event, { error: errorMessage(error) }));
    }
  }

  private reportOutOfOrder(event: OrchestronEvent, newer: string): void {
    this.options.metrics.outOfOrder.inc({ consumer: this.options.consumer });
    this.options.logger.warn(
      'event arrived out of order: a newer event of its key was handled before it',
      this.context(event, { key: event.key, newerEventId: newer, replay: event.replay }),
    );
  }

  private context(event: OrchestronEvent, extra: Record<string, unknown>): Record<string, unknown> {
    return { consumer: this.options.consumer, eventId: event.eventId, type: event.type, ...extra };
  }
}

/** A handler failure on an event already reported as out of order (not reported again). */
class OutOfOrderRetry extends HandlerFailure {}

function identity(
  consumer: string,
  event: OrchestronEvent,
): { consumer: string; eventId: string; source: string; type: string } {
  return { consumer, eventId: event.eventId, source: event.source, type: event.type };
}
