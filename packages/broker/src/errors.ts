/**
 * The broker as a whole cannot be reached or failed mid-request (connection refused,
 * closed channel, timeout, leader not available). Not the message's fault: relay pauses
 * and retries the batch without counting an attempt against any event.
 */
export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The broker refused this one message (too large, unroutable, not authorised for the
 * topic). Counts as an attempt; after `routing.max_retries` the event is dead-lettered.
 */
export class MessageRejectedError extends Error {
  override readonly name = 'MessageRejectedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
