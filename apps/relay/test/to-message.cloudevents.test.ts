import type { ClaimedRow } from '@orchestron/db';
import { toMessage } from '../src/to-message';

// How toMessage maps what ingest stored for a CloudEvent: `ce-<name>` headers are the event's
// own attributes, plain names Orchestron's metadata, `payload-encoding` marks opaque data.

const row: ClaimedRow = {
  id: 1,
  eventId: '0190a0b0-0000-7000-8000-000000000002',
  broker: 'rabbitmq',
  destination: 'events',
  routingKey: 'sensor.reading',
  partitionKey: 'sensor-1',
  attempts: 0,
  firstAttemptAt: null,
  type: 'sensor.reading',
  source: '/sensors/1',
  payload: '{"celsius": 21.5}',
  encryptedPayload: null,
  headers: {
    'content-type': 'application/json',
    'request-id': 'req-7',
    traceparent: '00-11111111111111111111111111111111-2222222222222222-01',
    'api-key': 'sensors',
    team: 'iot',
    time: '2026-11-26T10:00:00Z',
    'ce-id': 'reading-77',
    'ce-subject': 'room/4',
    'ce-dataschema': 'https://schemas.example.com/reading.json',
    'ce-traceparent': '00-33333333333333333333333333333333-4444444444444444-01',
    'ce-comexampleflag': 'true',
  },
  receivedAt: new Date('2026-11-26T10:00:01Z'),
};

describe('toMessage with CloudEvents attributes', () => {
  it("splits the event's own attributes from Orchestron's metadata headers", () => {
    const message = toMessage(row, Buffer.from(row.payload as string));
    expect(message.id).toBe(row.eventId);
    expect(message.cloudEventId).toBe('reading-77');
    expect(message.attributes).toEqual({
      subject: 'room/4',
      dataschema: 'https://schemas.example.com/reading.json',
      traceparent: '00-33333333333333333333333333333333-4444444444444444-01',
      comexampleflag: 'true',
    });
    expect(message.headers).toEqual({
      'x-request-id': 'req-7',
      traceparent: '00-11111111111111111111111111111111-2222222222222222-01',
      'api-key': 'sensors',
      team: 'iot',
    });
    expect(message.time.toISOString()).toBe('2026-11-26T10:00:00.000Z');
  });

  it('publishes opaque data as its bytes, decoded from the stored base64 string', () => {
    const bytes = Buffer.from([0x00, 0xff, 0x41]);
    const opaque = {
      ...row,
      headers: { 'content-type': 'application/octet-stream', 'payload-encoding': 'base64' },
    };
    const message = toMessage(opaque, Buffer.from(JSON.stringify(bytes.toString('base64'))));
    expect(message.payload.equals(bytes)).toBe(true);
    expect(message.contentType).toBe('application/octet-stream');
    expect(message.headers).toEqual({});
    // Not a CloudEvent of its own: the event id is its CloudEvents id.
    expect(message.cloudEventId).toBeUndefined();
  });

  it('refuses a base64-marked payload that is not a JSON string, so the row fails instead of publishing garbage', () => {
    const broken = { ...row, headers: { 'payload-encoding': 'base64' } };
    expect(() => toMessage(broken, Buffer.from('{"a":1}'))).toThrow(/JSON string/);
  });
});
