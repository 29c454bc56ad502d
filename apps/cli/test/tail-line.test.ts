import type { ReceivedMessage } from '@orchestron/broker';
import { tailLine } from '../src/tail-line';

function received(payload: Buffer, overrides: Partial<ReceivedMessage> = {}): ReceivedMessage {
  return {
    id: 'e-1',
    type: 'order.created',
    source: 'shop',
    time: new Date('2026-11-26T10:00:00Z'),
    contentType: 'application/json',
    key: 'k',
    routingKey: 'order.created',
    headers: { 'x-request-id': 'r-1' },
    payload,
    ...overrides,
  };
}

describe('tailLine', () => {
  it('prints one line of JSON with the payload embedded when it is JSON', () => {
    const line = tailLine(received(Buffer.from('{"n": [1, 2], "s": "é"}')));
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      id: 'e-1',
      type: 'order.created',
      source: 'shop',
      time: '2026-11-26T10:00:00.000Z',
      contentType: 'application/json',
      key: 'k',
      routingKey: 'order.created',
      headers: { 'x-request-id': 'r-1' },
      payload: { n: [1, 2], s: 'é' },
    });
  });

  it('embeds JSON scalars, null included, as JSON', () => {
    expect(JSON.parse(tailLine(received(Buffer.from('null'))))).toHaveProperty('payload', null);
    expect(JSON.parse(tailLine(received(Buffer.from('"text"'))))).toHaveProperty('payload', 'text');
  });

  it('gives anything that is not JSON text as base64, byte for byte', () => {
    for (const payload of [
      Buffer.from('not json'),
      Buffer.from([0xff, 0xfe]),
      Buffer.alloc(0),
      Buffer.from('"\xff"', 'latin1'),
    ]) {
      const parsed = JSON.parse(tailLine(received(payload, { time: null, key: null })));
      expect(parsed).not.toHaveProperty('payload');
      expect(Buffer.from(parsed.payloadBase64, 'base64').equals(payload)).toBe(true);
      expect(parsed).toMatchObject({ time: null, key: null });
    }
  });
});
