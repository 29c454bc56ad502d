import { testMessage } from '@orchestron/broker/conformance';
import { fromAmqpDelivery, toAmqpPublish, unpublishableReason } from '../src/marshal';

describe('toAmqpPublish', () => {
  const message = testMessage('orders', {
    id: '0190f3c4-5a8e-7cc1-9a3e-2f1f5a1b2c3d',
    type: 'order.created',
    source: '/shop',
    time: new Date('2025-01-02T03:04:05.678Z'),
    routingKey: 'order.created.eu',
    key: 'customer-7',
    contentType: 'application/json',
    headers: { 'x-request-id': 'req-1', 'cloudEvents:id': 'spoofed' },
    payload: Buffer.from('{"a":1}'),
  });

  it('publishes to the destination exchange with the routing key and the payload as body', () => {
    const publish = toAmqpPublish(message);
    expect(publish.exchange).toBe('orders');
    expect(publish.routingKey).toBe('order.created.eu');
    expect(publish.content).toBe(message.payload);
  });

  it('sets persistent, mandatory and the standard AMQP properties', () => {
    expect(toAmqpPublish(message).options).toMatchObject({
      mandatory: true,
      persistent: true,
      messageId: message.id,
      type: 'order.created',
      timestamp: 1735787045,
      contentType: 'application/json',
      appId: 'orchestron',
    });
  });

  it('adds the CloudEvents AMQP binding headers, which extra headers cannot override', () => {
    expect(toAmqpPublish(message).options.headers).toEqual({
      'x-request-id': 'req-1',
      'cloudEvents:specversion': '1.0',
      'cloudEvents:id': message.id,
      'cloudEvents:type': 'order.created',
      'cloudEvents:source': '/shop',
      'cloudEvents:time': '2025-01-02T03:04:05.678Z',
      'cloudEvents:partitionkey': 'customer-7',
    });
  });

  it("writes the event's further attributes as cloudEvents: headers, without letting them override the core ones", () => {
    const { headers } = toAmqpPublish({
      ...message,
      attributes: { subject: 'pull/7', traceparent: '00-abc-def-01', comexampleflag: 'true', id: 'spoofed' },
    }).options;
    expect(headers).toMatchObject({
      'cloudEvents:subject': 'pull/7',
      'cloudEvents:traceparent': '00-abc-def-01',
      'cloudEvents:comexampleflag': 'true',
      'cloudEvents:id': message.id,
      'x-request-id': 'req-1',
    });
  });

  it("publishes a forwarded CloudEvent's own id as cloudEvents:id, keeping the event id as messageId", () => {
    const { options } = toAmqpPublish({ ...message, cloudEventId: 'A234-1234-1234' });
    expect(options.messageId).toBe(message.id);
    expect(options.headers['cloudEvents:id']).toBe('A234-1234-1234');
  });

  it('leaves the partition key header out when the message has no key', () => {
    const { headers } = toAmqpPublish({ ...message, key: null }).options;
    expect(headers).not.toHaveProperty('cloudEvents:partitionkey');
  });

  it('leaves the timestamp property out for an event from before 1970, and keeps the exact time in cloudEvents:time', () => {
    for (const time of ['1969-12-31T23:59:59.000Z', '0000-01-01T00:00:00.000Z']) {
      const publish = toAmqpPublish({ ...message, time: new Date(time) });
      expect(publish.options).not.toHaveProperty('timestamp');
      expect(publish.options.headers['cloudEvents:time']).toBe(time);
      expect(unpublishableReason(publish)).toBeNull();
    }
  });

  it('keeps the timestamp of the epoch itself', () => {
    expect(toAmqpPublish({ ...message, time: new Date(0) }).options.timestamp).toBe(0);
  });
});

describe('unpublishableReason', () => {
  const message = testMessage('orders', { time: new Date('2025-01-02T03:04:05.678Z') });

  it('is null for a message amqplib can encode', () => {
    expect(unpublishableReason(toAmqpPublish(message))).toBeNull();
  });

  it('finds before sending what amqplib would throw on while publishing', () => {
    const publish = toAmqpPublish(message);
    // A negative timestamp, as the adapter once sent for events from before 1970.
    const reason = unpublishableReason({ ...publish, options: { ...publish.options, timestamp: -1 } });
    expect(reason).toMatch(/^amqplib cannot encode it: .*out of (bounds|range)/);
  });

  it('names an over-long short string', () => {
    expect(unpublishableReason(toAmqpPublish({ ...message, type: 't'.repeat(300) }))).toBe(
      'the type is 300 bytes; AMQP allows 255',
    );
  });
});

describe('fromAmqpDelivery', () => {
  it('reads back what toAmqpPublish wrote', () => {
    const sent = testMessage('orders', { time: new Date('2025-01-02T03:04:05.678Z') });
    const { routingKey, content, options } = toAmqpPublish(sent);

    const received = fromAmqpDelivery({ fields: { routingKey }, properties: options, content });

    expect(received).toEqual({
      id: sent.id,
      type: sent.type,
      source: sent.source,
      time: sent.time,
      contentType: sent.contentType,
      key: sent.key,
      routingKey: sent.routingKey,
      headers: options.headers,
      payload: sent.payload,
    });
  });

  it('copes with a message from another publisher: no CloudEvents headers, typed header values', () => {
    const received = fromAmqpDelivery({
      fields: { routingKey: 'rk' },
      properties: {
        timestamp: 1735787045,
        headers: { count: 3, flag: true, raw: Buffer.from('bytes'), nested: { a: 1 }, none: null },
      },
      content: Buffer.from('x'),
    });

    expect(received).toMatchObject({
      id: null,
      type: null,
      source: null,
      key: null,
      contentType: null,
      time: new Date(1735787045 * 1000),
      headers: { count: '3', flag: 'true', raw: 'bytes', nested: '{"a":1}' },
    });
  });

  it('takes the id and type from the headers when the properties lack them', () => {
    const received = fromAmqpDelivery({
      fields: { routingKey: 'rk' },
      properties: { headers: { 'cloudEvents:id': 'id-1', 'cloudEvents:type': 't', 'cloudEvents:time': 'not a date' } },
      content: Buffer.alloc(0),
    });
    expect(received).toMatchObject({ id: 'id-1', type: 't', time: null });
  });
});
