import type { ClaimedRow } from '@orchestron/db';
import { toMessage } from '../src/to-message';

const base: ClaimedRow = {
  id: 7,
  eventId: '0190a0b0-0000-7000-8000-000000000001',
  broker: 'kafka',
  destination: 'events',
  routingKey: 'order.created',
  partitionKey: 'customer-1',
  attempts: 0,
  firstAttemptAt: null,
  type: 'order.created',
  source: 'shop',
  payload: '{"a": 1}',
  encryptedPayload: null,
  headers: { 'content-type': 'application/json', 'request-id': 'req-1' },
  receivedAt: new Date('2026-01-01T00:00:00Z'),
};

describe('toMessage', () => {
  it('carries the event id, type, source, key and the stored payload bytes', () => {
    const message = toMessage(base, Buffer.from(base.payload as string));
    expect(message).toMatchObject({
      id: base.eventId,
      type: 'order.created',
      source: 'shop',
      key: 'customer-1',
      destination: 'events',
      routingKey: 'order.created',
      contentType: 'application/json',
      headers: { 'x-request-id': 'req-1' },
    });
    expect(message.payload.toString()).toBe('{"a": 1}');
    expect(message.time.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it("uses the sender's time when it gave one", () => {
    const message = toMessage(
      { ...base, headers: { ...base.headers, time: '2025-05-05T05:05:05Z' } },
      Buffer.from('{}'),
    );
    expect(message.time.toISOString()).toBe('2025-05-05T05:05:05.000Z');
  });

  it('carries a leap second as the following second, never the receive time', () => {
    const message = toMessage(
      { ...base, headers: { ...base.headers, time: '2016-12-31T23:59:60Z' } },
      Buffer.from('{}'),
    );
    expect(message.time.toISOString()).toBe('2017-01-01T00:00:00.000Z');
  });

  it("throws on a stored time it cannot read, which makes the row's rejection", () => {
    expect(() => toMessage({ ...base, headers: { ...base.headers, time: 'soon' } }, Buffer.from('{}'))).toThrow(
      /the sender's time "soon"/,
    );
  });
});
