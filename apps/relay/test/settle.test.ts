import { MessageRejectedError } from '@orchestron/broker';
import type { ClaimedRow } from '@orchestron/db';
import { settle } from '../src/settle';

function row(id: number, attempts: number): ClaimedRow {
  return {
    id,
    eventId: `e${id}`,
    broker: 'rabbitmq',
    destination: 'events',
    routingKey: 'x',
    partitionKey: null,
    attempts,
    firstAttemptAt: null,
    type: 't',
    source: 's',
    payload: '{}',
    encryptedPayload: null,
    headers: {},
    receivedAt: new Date(),
  };
}

describe('settle', () => {
  it('marks acknowledged rows published, retries rejected ones, dead-letters the last attempt', () => {
    const rejected = { ok: false as const, error: new MessageRejectedError('too large') };
    const result = settle([row(1, 0), row(2, 0), row(3, 3)], [{ ok: true }, rejected, rejected], 3);
    expect(result.published.map((r) => r.id)).toEqual([1]);
    expect(result.retry).toEqual([{ id: 2, error: 'MessageRejectedError: too large' }]);
    expect(result.deadLetter).toEqual([{ id: 3, error: 'MessageRejectedError: too large' }]);
  });

  it('with max_retries 0 dead-letters on the first failure', () => {
    const result = settle([row(1, 0)], [{ ok: false, error: new Error('no') }], 0);
    expect(result.deadLetter).toHaveLength(1);
  });

  it('refuses a result list that does not match the batch', () => {
    expect(() => settle([row(1, 0)], [], 3)).toThrow(/0 results for 1 messages/);
  });
});
