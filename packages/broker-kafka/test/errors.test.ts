import {
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { BrokerUnavailableError, MessageRejectedError } from '@orchestron/broker';
import { classifyKafkaError, rejected, unavailable } from '../src/errors';

/** A broker error as kafkajs builds it from a response's error code. */
function protocolError(type: string, retriable = false): KafkaJSProtocolError {
  return new KafkaJSProtocolError(Object.assign(new Error(`broker says ${type}`), { type, code: 0, retriable }));
}

describe('classifyKafkaError', () => {
  it.each([
    ['MESSAGE_TOO_LARGE', 'record'],
    ['RECORD_LIST_TOO_LARGE', 'record'],
    ['INVALID_RECORD', 'record'],
    ['INVALID_TIMESTAMP', 'record'],
    ['TOPIC_AUTHORIZATION_FAILED', 'topic'],
    ['INVALID_TOPIC_EXCEPTION', 'topic'],
    ['UNKNOWN_TOPIC_OR_PARTITION', 'topic'],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'producer'],
    ['INVALID_PRODUCER_EPOCH', 'producer'],
    ['UNKNOWN_PRODUCER_ID', 'producer'],
    ['LEADER_NOT_AVAILABLE', 'unavailable'],
    ['NOT_LEADER_FOR_PARTITION', 'unavailable'],
    ['REQUEST_TIMED_OUT', 'unavailable'],
    ['NOT_ENOUGH_REPLICAS', 'unavailable'],
    ['CLUSTER_AUTHORIZATION_FAILED', 'unavailable'],
    ['SASL_AUTHENTICATION_FAILED', 'unavailable'],
  ])('classifies %s as %s', (type, expected) => {
    expect(classifyKafkaError(protocolError(type))).toBe(expected);
  });

  it('looks through the wrappers kafkajs puts around the broker error', () => {
    const tooLarge = protocolError('MESSAGE_TOO_LARGE');
    // kafkajs's retrier wraps a non-retriable error like this (the types omit the cause).
    const notRetried = Object.assign(new KafkaJSNonRetriableError(tooLarge), { cause: tooLarge });
    expect(classifyKafkaError(notRetried)).toBe('record');

    const missing = protocolError('UNKNOWN_TOPIC_OR_PARTITION', true);
    const exhausted = new KafkaJSNumberOfRetriesExceeded(missing, { retryCount: 5, retryTime: 1000 });
    expect(classifyKafkaError(exhausted)).toBe('topic');

    const aggregate = new KafkaJSAggregateError('Topic creation errors', [protocolError('TOPIC_AUTHORIZATION_FAILED')]);
    expect(classifyKafkaError(aggregate)).toBe('topic');
  });

  it('takes connection trouble, timeouts and unknown errors as the broker being unavailable', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1');
    expect(classifyKafkaError(refused)).toBe('unavailable');
    expect(classifyKafkaError(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 1, retryTime: 100 }))).toBe(
      'unavailable',
    );
    expect(classifyKafkaError(new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'))).toBe(
      'unavailable',
    );
    expect(classifyKafkaError(new Error('something else'))).toBe('unavailable');
    expect(classifyKafkaError(undefined)).toBe('unavailable');
  });

  it('survives an error whose cause points back at itself', () => {
    const loop = new Error('loop') as Error & { cause?: unknown };
    loop.cause = loop;
    expect(classifyKafkaError(loop)).toBe('unavailable');
  });
});

describe('error construction', () => {
  it('names the topic and the broker error in a rejection', () => {
    const error = rejected(protocolError('MESSAGE_TOO_LARGE'), 'orders');
    expect(error).toBeInstanceOf(MessageRejectedError);
    expect(error.message).toContain('"orders"');
    expect(error.message).toContain('MESSAGE_TOO_LARGE');
  });

  it('wraps a failure in BrokerUnavailableError once, keeping the cause', () => {
    const cause = new KafkaJSConnectionError('Connection error');
    const error = unavailable('publish failed', cause);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error.message).toBe('Kafka publish failed: Connection error');
    expect(error.cause).toBe(cause);
    expect(unavailable('again', error)).toBe(error);
  });
});
