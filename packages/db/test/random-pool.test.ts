import { randomBytesPooled } from '../src/random-pool';

describe('randomBytesPooled', () => {
  it('hands out fresh bytes across pool refills, never the same bytes twice', () => {
    // 2 000 x 16 bytes spans several 4 KB refills.
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const bytes = randomBytesPooled(16);
      expect(bytes).toHaveLength(16);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(2_000);
  });

  it('returns bytes of their own: a later refill of the pool does not change them', () => {
    const kept = randomBytesPooled(16);
    const before = kept.toString('hex');
    for (let i = 0; i < 600; i++) randomBytesPooled(16); // more than one 4 KB refill
    expect(kept.toString('hex')).toBe(before);
  });

  it('refuses sizes outside 0..256', () => {
    expect(() => randomBytesPooled(257)).toThrow(RangeError);
    expect(() => randomBytesPooled(-1)).toThrow(RangeError);
    expect(randomBytesPooled(0)).toHaveLength(0);
  });
});
