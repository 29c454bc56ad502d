import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/**
 * `n` (at most 256) cryptographically random bytes, cut from a pool refilled 4 KB at a time:
 * a call into the random source per id cost more than making the rest of the id. The bytes
 * are copied out (the pool is refilled in place), so callers may keep them; no byte is handed
 * out twice.
 */
export function randomBytesPooled(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 256) throw new RangeError('between 0 and 256 bytes at a time');
  if (used + n > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const bytes = Buffer.from(pool.subarray(used, used + n));
  used += n;
  return bytes;
}
