import { senderTime } from '../src/event-time';

describe('senderTime', () => {
  it('reads an RFC 3339 time with its offset, truncated to the millisecond', () => {
    expect(senderTime('2020-01-01T00:00:00.123456789+14:00').toISOString()).toBe('2019-12-31T10:00:00.123Z');
    expect(senderTime('2016-12-31t23:59:59z').toISOString()).toBe('2016-12-31T23:59:59.000Z');
  });

  it('reads times before 1970, back to year 0000', () => {
    expect(senderTime('1969-12-31T23:59:59Z').getTime()).toBe(-1000);
    expect(senderTime('0000-01-01T00:00:00Z').toISOString()).toBe('0000-01-01T00:00:00.000Z');
  });

  it('reads a leap second as the second after hh:mm:59', () => {
    expect(senderTime('2016-12-31T23:59:60Z').toISOString()).toBe('2017-01-01T00:00:00.000Z');
    expect(senderTime('2016-12-31T23:59:60.5Z').toISOString()).toBe('2017-01-01T00:00:00.500Z');
    expect(senderTime('2016-12-31T18:59:60-05:00').toISOString()).toBe('2017-01-01T00:00:00.000Z');
  });

  it('throws on a time it cannot read instead of putting another in its place', () => {
    expect(() => senderTime('yesterday')).toThrow(/the sender's time "yesterday" is not an RFC 3339 timestamp/);
  });
});
