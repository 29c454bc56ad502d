import { hash, randomBytes } from 'node:crypto';

/** Keys look like `orc_<43 base64url chars>`: 256 random bits, recognisable in logs and scanners. */
export const API_KEY_PREFIX = 'orc_';

/** SHA-256 of a key, hex: what is stored and looked up. Keys are random, so no salt is needed. */
export function hashApiKey(key: string): string {
  // The one-shot hash: ingest hashes every presented key, and a Hash object per call costs more.
  return hash('sha256', key, 'hex');
}

/** A new key, its hash, and the prefix shown in listings to tell keys apart. */
export function generateApiKey(): { key: string; hash: string; prefix: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, API_KEY_PREFIX.length + 6) };
}
