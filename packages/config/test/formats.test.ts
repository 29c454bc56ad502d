import { parseByteSize, parseDuration, parseListenAddress } from '../src';

describe('parseDuration', () => {
  it.each([
    ['5s', 5_000],
    ['250ms', 250],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1500', 1_500],
    [42, 42],
  ])('reads %p as %p ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'soon', '5x', '-1s', 's5'])('rejects %p', (input) => {
    expect(() => parseDuration(input)).toThrow();
  });
});

describe('parseByteSize', () => {
  it('uses binary multiples, as body parsers do', () => {
    expect(parseByteSize('1MB')).toBe(1_048_576);
    expect(parseByteSize('512kb')).toBe(524_288);
    expect(parseByteSize('100')).toBe(100);
  });

  it('rejects sizes it cannot read', () => {
    expect(() => parseByteSize('1 TB')).toThrow();
    expect(() => parseByteSize('0')).toThrow();
    expect(() => parseByteSize('big')).toThrow();
  });
});

describe('parseListenAddress', () => {
  it('reads Go-style addresses', () => {
    expect(parseListenAddress(':8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListenAddress('127.0.0.1:9091')).toEqual({ host: '127.0.0.1', port: 9091 });
    expect(parseListenAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
  });

  it('rejects addresses without a valid port', () => {
    expect(() => parseListenAddress('8080')).toThrow();
    expect(() => parseListenAddress(':99999')).toThrow();
  });
});
