import { narrowsSelection } from '@orchestron/db';
import { deadLetterFilter, limitOf } from '../src/dead-letter-args';

describe('deadLetterFilter', () => {
  it('selects dead letters with status dead unless told otherwise', () => {
    expect(deadLetterFilter({})).toEqual({ status: 'dead' });
    expect(deadLetterFilter({ status: 'replayed' })).toEqual({ status: 'replayed' });
  });

  it('takes ids from repeated and comma-separated --id and from arguments', () => {
    expect(deadLetterFilter({ id: ['1,2', '3'] }, ['4']).ids).toEqual([1, 2, 3, 4]);
  });

  it('passes the other filters on, with times resolved', () => {
    const before = Date.now();
    const filter = deadLetterFilter({
      destination: 'orders',
      type: 'order.*',
      source: 'shop',
      error: 'NO_ROUTE',
      since: '1h',
      until: '2026-11-26T00:00:00Z',
    });
    expect(filter).toMatchObject({ destination: 'orders', type: 'order.*', source: 'shop', errorContains: 'NO_ROUTE' });
    expect(filter.since?.getTime()).toBeGreaterThanOrEqual(before - 3_600_000);
    expect(filter.since?.getTime()).toBeLessThanOrEqual(Date.now() - 3_600_000);
    expect(filter.until?.toISOString()).toBe('2026-11-26T00:00:00.000Z');
  });

  it('refuses empty values and unknown statuses', () => {
    expect(() => deadLetterFilter({ type: '' })).toThrow('--type needs a value');
    expect(() => deadLetterFilter({ status: 'Dead' })).toThrow(/not one of dead, replayed, discarded/);
    expect(() => deadLetterFilter({ id: ['1,x'] })).toThrow(/"x" is not a dead-letter id/);
  });
});

describe('narrowsSelection', () => {
  it('is false for a filter by status alone', () => {
    expect(narrowsSelection(deadLetterFilter({}))).toBe(false);
    expect(narrowsSelection(deadLetterFilter({ status: 'dead' }))).toBe(false);
    expect(narrowsSelection(deadLetterFilter({ source: 'shop' }))).toBe(true);
  });
});

describe('limitOf', () => {
  it('reads a positive integer, else the fallback', () => {
    expect(limitOf({}, 100)).toBe(100);
    expect(limitOf({ limit: '5' }, 100)).toBe(5);
    expect(() => limitOf({ limit: '-1' }, 100)).toThrow(/not a positive integer/);
  });
});
