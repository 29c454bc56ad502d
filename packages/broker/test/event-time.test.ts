import { cloudEventsTime } from '../src/event-time';

describe('cloudEventsTime', () => {
  it('writes a time in UTC with millisecond precision', () => {
    expect(cloudEventsTime(new Date('2026-11-26T11:00:00.123+01:00'))).toBe('2026-11-26T10:00:00.123Z');
  });

  it('writes times before 1970 and in years 0000 and 9999 as they are', () => {
    expect(cloudEventsTime(new Date('1969-12-31T23:59:59Z'))).toBe('1969-12-31T23:59:59.000Z');
    expect(cloudEventsTime(new Date('0000-01-01T00:00:00Z'))).toBe('0000-01-01T00:00:00.000Z');
    expect(cloudEventsTime(new Date('9999-12-31T23:59:59.999Z'))).toBe('9999-12-31T23:59:59.999Z');
  });

  it('writes an instant after year 9999 in UTC with offset -23:59, the same instant in a four-digit year', () => {
    const sent = new Date('9999-12-31T23:00:00-05:00');
    const written = cloudEventsTime(sent);
    expect(written).toBe('9999-12-31T04:01:00.000-23:59');
    expect(new Date(written).getTime()).toBe(sent.getTime());
  });

  it('writes an instant before year 0000 with offset +23:59', () => {
    const sent = new Date('0000-01-01T00:30:00+01:00');
    const written = cloudEventsTime(sent);
    expect(written).toBe('0000-01-01T23:29:00.000+23:59');
    expect(new Date(written).getTime()).toBe(sent.getTime());
  });

  it('throws on an instant no RFC 3339 time can write', () => {
    expect(() => cloudEventsTime(new Date('+012000-01-01T00:00:00Z'))).toThrow(RangeError);
    expect(() => cloudEventsTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});
