import { REPLAY_ATTRIBUTE } from '@orchestron/broker';
import { toKafkaMessage } from '@orchestron/broker-kafka';
import type { ClaimedRow } from '@orchestron/db';
import { toMessage } from '../src/to-message';

const row: ClaimedRow = {
  id: 9,
  eventId: '0190a0b0-0000-7000-8000-000000000009',
  broker: 'kafka',
  destination: 'events',
  routingKey: 'order.created',
  partitionKey: null,
  attempts: 0,
  firstAttemptAt: null,
  type: 'order.created',
  source: 'shop',
  payload: '{"a": 1}',
  encryptedPayload: null,
  headers: { 'content-type': 'application/json', 'ce-subject': 'order-1' },
  receivedAt: new Date('2026-01-01T00:00:00Z'),
  replayId: null,
};
const replayId = '0193a0b0-0000-7000-8000-0000000000aa';

describe('toMessage for a replayed outbox row', () => {
  it('marks the message with the replay id as a CloudEvents extension and keeps the event id', () => {
    const message = toMessage({ ...row, replayId }, Buffer.from('{}'));
    expect(message.id).toBe(row.eventId);
    expect(message.attributes).toEqual({ subject: 'order-1', [REPLAY_ATTRIBUTE]: replayId });
    expect(toKafkaMessage(message).headers).toMatchObject({ ce_orchestronreplay: replayId, ce_id: row.eventId });
  });

  it('leaves a message that is no replay unmarked', () => {
    expect(toMessage(row, Buffer.from('{}')).attributes).toEqual({ subject: 'order-1' });
  });

  it("drops a sender's own orchestronreplay attribute, so only a replay can mark a message", () => {
    const spoofed = { ...row, headers: { ...row.headers, 'ce-orchestronreplay': 'not-a-replay' } };
    expect(toMessage(spoofed, Buffer.from('{}')).attributes).toEqual({ subject: 'order-1' });
    expect(toMessage({ ...spoofed, replayId }, Buffer.from('{}')).attributes).toEqual({
      subject: 'order-1',
      [REPLAY_ATTRIBUTE]: replayId,
    });
  });
});
