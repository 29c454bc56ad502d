import { durationMs, parseTimeBound } from '../src/time-bound';

const now = new Date('2026-11-26T12:00:00.000Z');

describe('parseTimeBound', () => {
  it('reads a duration as that long before now', () => {
    expect(parseTimeBound('24h', '--since', now).toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(parseTimeBound('7d', '--since', now).toISOString()).toBe('2026-11-19T12:00:00.000Z');
    expect(parseTimeBound('1h30m', '--since', now).toISOString()).toBe('2026-11-26T10:30:00.000Z');
  });

  it('reads an ISO time or date as given', () => {
    expect(parseTimeBound('2026-11-20T08:00:00Z', '--until', now).toISOString()).toBe('2026-11-20T08:00:00.000Z');
    expect(parseTimeBound('2026-11-20', '--until', now).toISOString()).toBe('2026-11-20T00:00:00.000Z');
  });

  it('refuses anything else, naming the option', () => {
    for (const text of ['yesterday', '24', '-1h', '2026-13-45', '']) {
      expect(() => parseTimeBound(text, '--since', now)).toThrow(/--since: .* is neither an ISO time/);
    }
  });
});

describe('durationMs', () => {
  it('adds up units from milliseconds to weeks, and is null for what is not a duration', () => {
    expect(durationMs('250ms')).toBe(250);
    expect(durationMs('1w2d')).toBe(9 * 86_400_000);
    expect(durationMs('1.5s')).toBe(1_500);
    expect(durationMs('5 m')).toBeNull();
    expect(durationMs('h')).toBeNull();
  });
});
