import { toKafkaMessage } from '@orchestron/broker-kafka';
import { toAmqpPublish } from '@orchestron/broker-rabbitmq';
import type { ConsumeMessage } from 'amqplib';
import { decodeAmqpMessage, decodeKafkaMessage, UndecodableMessageError, type OrchestronEvent } from '../src';
import { relayMessage, replayOf } from './relay-messages';

/** What the relay's Kafka publisher sends, as kafkajs hands it to a consumer. */
function viaKafka(message: ReturnType<typeof relayMessage>): OrchestronEvent {
  const record = toKafkaMessage(message);
  const headers = Object.fromEntries(Object.entries(record.headers).map(([name, value]) => [name, Buffer.from(value)]));
  return decodeKafkaMessage(
    {
      key: typeof record.key === 'string' ? Buffer.from(record.key) : null,
      value: record.value as Buffer,
      headers,
      offset: '7',
    },
    'orders',
    2,
  );
}

/** What the relay's RabbitMQ publisher sends, as amqplib hands it to a consumer. */
function viaAmqp(message: ReturnType<typeof relayMessage>): OrchestronEvent {
  const publish = toAmqpPublish(message);
  const delivery = {
    fields: {
      exchange: publish.exchange,
      routingKey: publish.routingKey,
      redelivered: false,
      deliveryTag: 1,
      consumerTag: 'c',
    },
    properties: { ...publish.options },
    content: publish.content,
  } as unknown as ConsumeMessage;
  return decodeAmqpMessage(delivery, 'orders.projection');
}

function withoutOrigin(event: OrchestronEvent): Omit<OrchestronEvent, 'origin'> {
  const { origin: _origin, ...rest } = event;
  return rest;
}

describe('decoding the two CloudEvents bindings', () => {
  it('gives the same event for a Kafka record and an AMQP message of one relay message', () => {
    const message = relayMessage({ destination: 'orders', type: 'order.created', key: 'order-1', data: { total: 12 } });
    const kafka = viaKafka(message);
    const amqp = viaAmqp(message);
    expect(withoutOrigin(kafka)).toEqual(withoutOrigin(amqp));
    expect(kafka).toMatchObject({
      id: message.id,
      eventId: message.id,
      source: 'shop',
      type: 'order.created',
      specversion: '1.0',
      datacontenttype: 'application/json',
      data: { total: 12 },
      key: 'order-1',
      replay: null,
      subject: null,
    });
    expect(kafka.time?.toISOString()).toBe(message.time.toISOString());
    expect(kafka.headers['x-request-id']).toBe(message.headers['x-request-id']);
    expect(kafka.origin).toEqual({ broker: 'kafka', topic: 'orders', partition: 2, offset: '7' });
    expect(amqp.origin).toMatchObject({
      broker: 'rabbitmq',
      queue: 'orders.projection',
      exchange: 'orders',
      routingKey: 'order.created',
    });
  });

  it("keeps a forwarded CloudEvent's own id apart from Orchestron's event id", () => {
    const message = relayMessage({
      destination: 'orders',
      attributes: { id: 'sender-42', subject: 'order/1', dataschema: 'https://x.test/s' },
    });
    for (const event of [viaKafka(message), viaAmqp(message)]) {
      expect(event.id).toBe('sender-42');
      expect(event.eventId).toBe(message.id);
      expect(event.subject).toBe('order/1');
      expect(event.dataschema).toBe('https://x.test/s');
      expect(event.extensions).toEqual({});
    }
  });

  it('decodes the replay marker and other extensions', () => {
    const message = replayOf(
      relayMessage({ destination: 'orders', key: 'k', attributes: { traceparent: '00-abc-def-01' } }),
      'job-7',
    );
    for (const event of [viaKafka(message), viaAmqp(message)]) {
      expect(event.replay).toBe('job-7');
      expect(event.extensions).toMatchObject({ orchestronreplay: 'job-7', traceparent: '00-abc-def-01' });
    }
    // The AMQP binding carries the key as the partitioning extension; both give it as the key.
    expect(viaAmqp(message).key).toBe('k');
    expect(viaKafka(message).key).toBe('k');
  });

  it('hands opaque data over as bytes', () => {
    const message = {
      ...relayMessage({ destination: 'orders' }),
      contentType: 'application/octet-stream',
      payload: Buffer.from([0, 1, 255]),
    };
    for (const event of [viaKafka(message), viaAmqp(message)]) {
      expect(event.data).toEqual(Buffer.from([0, 1, 255]));
      expect(event.datacontenttype).toBe('application/octet-stream');
    }
  });

  it('refuses a message without the required attributes or with broken JSON data', () => {
    expect(() => decodeKafkaMessage({ key: null, value: Buffer.from('{}'), headers: {}, offset: '0' }, 't', 0)).toThrow(
      new UndecodableMessageError('not a CloudEvent: missing id, source, type, specversion'),
    );
    const broken = { ...relayMessage({ destination: 'orders' }), payload: Buffer.from('{"a":') };
    expect(() => viaKafka(broken)).toThrow(/data is not valid JSON/);
    expect(() => viaAmqp(broken)).toThrow(UndecodableMessageError);
  });
});
