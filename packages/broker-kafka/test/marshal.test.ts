import { testMessage } from '@orchestron/broker/conformance';
import { fromKafkaMessage, toKafkaMessage } from '../src/marshal';

describe('toKafkaMessage', () => {
  const message = testMessage('orders', {
    id: '0190f3c4-5a8e-7cc1-9a3e-2f1f5a1b2c3d',
    type: 'order.created',
    source: '/shop',
    time: new Date('2025-01-02T03:04:05.678Z'),
    key: 'customer-7',
    contentType: 'application/json',
    headers: { 'x-request-id': 'req-1', ce_id: 'spoofed' },
    payload: Buffer.from('{"a":1}'),
  });

  it('uses the partition key as record key and the payload as value', () => {
    const record = toKafkaMessage(message);
    expect(record.key).toBe('customer-7');
    expect(record.value).toBe(message.payload);
    expect(toKafkaMessage({ ...message, key: null }).key).toBeNull();
  });

  it('adds the CloudEvents Kafka binding headers, which extra headers cannot override', () => {
    expect(toKafkaMessage(message).headers).toEqual({
      'x-request-id': 'req-1',
      ce_specversion: '1.0',
      ce_id: message.id,
      ce_type: 'order.created',
      ce_source: '/shop',
      ce_time: '2025-01-02T03:04:05.678Z',
      'content-type': 'application/json',
    });
  });

  it("writes the event's further attributes as ce_ headers, without letting them override the core ones", () => {
    const headers = toKafkaMessage({
      ...message,
      attributes: { subject: 'pull/7', traceparent: '00-abc-def-01', comexampleflag: 'true', id: 'spoofed' },
    }).headers;
    expect(headers).toMatchObject({
      ce_subject: 'pull/7',
      ce_traceparent: '00-abc-def-01',
      ce_comexampleflag: 'true',
      ce_id: message.id,
      'x-request-id': 'req-1',
    });
  });

  it("publishes a forwarded CloudEvent's own id as ce_id, with the event id beside it, and reads the event id back", () => {
    const record = toKafkaMessage({ ...message, cloudEventId: 'A234-1234-1234' });
    expect(record.headers).toMatchObject({ ce_id: 'A234-1234-1234', 'orchestron-event-id': message.id });
    expect(fromKafkaMessage({ key: null, value: null, headers: record.headers }).id).toBe(message.id);
    expect(toKafkaMessage(message).headers).not.toHaveProperty('orchestron-event-id');
  });

  it('leaves the record timestamp to the producer', () => {
    expect(toKafkaMessage(message).timestamp).toBeUndefined();
  });
});

describe('toKafkaMessage times', () => {
  it("writes ce_time as the sender's instant in UTC, also before 1970 and past year 9999 with an offset", () => {
    const at = (time: string): string | undefined =>
      toKafkaMessage(testMessage('events', { time: new Date(time) })).headers.ce_time;
    expect(at('1969-12-31T23:59:59Z')).toBe('1969-12-31T23:59:59.000Z');
    expect(at('0000-01-01T00:00:00Z')).toBe('0000-01-01T00:00:00.000Z');
    expect(at('9999-12-31T23:00:00-05:00')).toBe('9999-12-31T04:01:00.000-23:59');
  });
});

describe('fromKafkaMessage', () => {
  it('reads back what toKafkaMessage wrote, as the broker returns it (buffers)', () => {
    const sent = testMessage('orders', { key: 'k' });
    const record = toKafkaMessage(sent);
    const headers = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, Buffer.from(v)]));

    const received = fromKafkaMessage({ key: Buffer.from('k'), value: sent.payload, headers });

    expect(received).toEqual({
      id: sent.id,
      type: sent.type,
      source: sent.source,
      time: sent.time,
      contentType: sent.contentType,
      key: 'k',
      routingKey: null,
      headers: record.headers,
      payload: sent.payload,
    });
  });

  it('copes with a record from another producer: no key, no value, no CloudEvents headers', () => {
    const received = fromKafkaMessage({ key: null, value: null, headers: { ce_time: 'yesterday' } });
    expect(received).toMatchObject({ id: null, type: null, source: null, time: null, key: null, contentType: null });
    expect(received.payload).toEqual(Buffer.alloc(0));
  });

  it('takes the last value of a repeated header', () => {
    const received = fromKafkaMessage({ key: null, value: null, headers: { h: [Buffer.from('a'), 'b'] } });
    expect(received.headers).toEqual({ h: 'b' });
  });
});
