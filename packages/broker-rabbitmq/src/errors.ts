import { BrokerUnavailableError } from '@orchestron/broker';

/**
 * Channel-level AMQP reply codes with which the broker refuses an operation on one resource
 * (here: declaring an exchange) while the connection stays fine: 403 ACCESS_REFUSED,
 * 404 NOT_FOUND, 405 RESOURCE_LOCKED, 406 PRECONDITION_FAILED (e.g. the exchange exists with
 * another type). amqplib puts the code on the error it rejects the operation with.
 */
const REFUSAL_CODES = new Set([403, 404, 405, 406]);

export function isChannelRefusal(error: unknown): error is Error & { code: number } {
  if (!(error instanceof Error)) return false;
  const { code } = error as Error & { code?: unknown };
  return typeof code === 'number' && REFUSAL_CODES.has(code);
}

/** Anything else that goes wrong talking to RabbitMQ is the broker's (or network's) fault. */
export function unavailable(context: string, cause?: unknown): BrokerUnavailableError {
  if (cause instanceof BrokerUnavailableError) return cause;
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new BrokerUnavailableError(`RabbitMQ ${context}${reason}`, { cause });
}
