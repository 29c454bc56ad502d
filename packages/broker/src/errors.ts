/**
 * The broker as a whole cannot be reached or failed mid-request (connection refused,
 * closed channel, timeout, leader not available). Not the message's fault: relay pauses
 * and retries the batch without counting an attempt against any event.
 */
export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
  /**
   * No connection could be made at all: the broker did not answer, so no message of the call
   * can be at fault (the relay does not look for one).
   */
  readonly unreachable: boolean;
  constructor(message: string, options?: { cause?: unknown; unreachable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.unreachable = options?.unreachable ?? false;
  }
}

/**
 * Why a message was rejected, for metrics and alerts:
 * - `unbuildable`: it cannot be made into a broker message (a property the broker cannot
 *   hold, headers too large, a payload that cannot be decrypted); found before sending.
 * - `nacked`: the broker refused to store it (RabbitMQ nack, e.g. a full queue with
 *   `x-overflow: reject-publish`).
 * - `unroutable`: no queue is bound for it (RabbitMQ basic.return).
 * - `isolated`: it made its whole batch fail as if the broker were down, while the broker
 *   answered; the relay found it by publishing the batch in parts.
 * - `refused`: any other refusal of this one message (too large for a topic, not authorised).
 */
export type RejectionReason = 'unbuildable' | 'nacked' | 'unroutable' | 'isolated' | 'refused';

/**
 * This one message cannot be published (the broker refused it, or it cannot be built).
 * Counts as an attempt; after `routing.max_retries` the event is dead-lettered.
 */
export class MessageRejectedError extends Error {
  override readonly name = 'MessageRejectedError';
  readonly reason: RejectionReason;
  constructor(message: string, options?: { cause?: unknown; reason?: RejectionReason }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options?.reason ?? 'refused';
  }
}
