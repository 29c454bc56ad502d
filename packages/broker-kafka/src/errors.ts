import { BrokerUnavailableError, MessageRejectedError } from '@orchestron/broker';

/**
 * What a kafkajs failure means for the messages of a send:
 * - `record`: the broker refused a record of the request (too large, invalid...). kafkajs
 *   fails the whole request, so it does not say which one: the caller must find out.
 * - `topic`: every message to that topic is refused (not authorised, invalid name, topic
 *   missing where it may not be created).
 * - `producer`: the idempotent producer's session is out of step with the broker (sequence
 *   numbers, fenced epoch): not the messages' fault, but the producer must be rebuilt.
 * - `unavailable`: anything else (connection refused or lost, timeouts, leader elections,
 *   retries exhausted on any of these): not the messages' fault.
 */
export type KafkaFailure = 'record' | 'topic' | 'producer' | 'unavailable';

const RECORD_ERRORS = new Set([
  'MESSAGE_TOO_LARGE', // larger than the topic's max.message.bytes (or the request's batch is)
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD', // e.g. a compacted topic and a null key
  'INVALID_TIMESTAMP',
  'CORRUPT_MESSAGE',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'POLICY_VIOLATION',
]);

const TOPIC_ERRORS = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'INVALID_TOPIC_EXCEPTION',
  // Raised only after kafkajs's retries: the topic does not exist and may not be auto-created.
  'UNKNOWN_TOPIC_OR_PARTITION',
]);

const PRODUCER_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'DUPLICATE_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/**
 * kafkajs wraps the broker's error: KafkaJSNumberOfRetriesExceeded and
 * KafkaJSNonRetriableError carry it as `cause`, an aggregate error in `errors`. The first
 * protocol error (one with a `type`) found decides.
 */
export function protocolErrorType(error: unknown): string | null {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.shift();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const { type, cause, errors } = current as { type?: unknown; cause?: unknown; errors?: unknown };
    if (typeof type === 'string') return type;
    pending.push(cause);
    if (Array.isArray(errors)) pending.push(...(errors as unknown[]));
  }
  return null;
}

export function classifyKafkaError(error: unknown): KafkaFailure {
  const type = protocolErrorType(error);
  if (type === null) return 'unavailable';
  if (RECORD_ERRORS.has(type)) return 'record';
  if (TOPIC_ERRORS.has(type)) return 'topic';
  if (PRODUCER_ERRORS.has(type)) return 'producer';
  return 'unavailable';
}

export function rejected(error: unknown, topic: string): MessageRejectedError {
  const type = protocolErrorType(error) ?? 'refused';
  return new MessageRejectedError(`Kafka refused the message for topic "${topic}": ${type} (${messageOf(error)})`, {
    cause: error,
  });
}

export function unavailable(
  context: string,
  error?: unknown,
  options: { unreachable?: boolean } = {},
): BrokerUnavailableError {
  if (error instanceof BrokerUnavailableError) return error;
  const reason = error === undefined ? '' : `: ${messageOf(error)}`;
  return new BrokerUnavailableError(`Kafka ${context}${reason}`, { cause: error, ...options });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
