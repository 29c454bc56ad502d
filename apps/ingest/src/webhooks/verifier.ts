import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a verifier sees of a delivery: its headers and the body exactly as received. */
export interface SignedDelivery {
  /** A request header by name (case-insensitive); undefined when absent. */
  header(name: string): string | undefined;
  body: Buffer;
}

export type Verification = { ok: true } | { ok: false; reason: string };

/**
 * Checks the signature of a delivery (and its timestamp, for schemes that sign one) at
 * `nowMs`. Pure: no I/O, no clock of its own. The reason of a failure is safe to show to
 * the sender: it never contains a secret or an expected signature.
 */
export type Verifier = (delivery: SignedDelivery, nowMs: number) => Verification;

export const VERIFIED: Verification = { ok: true };

export function rejected(reason: string): Verification {
  return { ok: false, reason };
}

export function hmacSha256(key: Buffer | string, ...parts: Array<string | Buffer>): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

/**
 * True when any given signature equals any expected one. Every pair is compared, each in
 * constant time (timingSafeEqual); a length mismatch is a plain mismatch, as an expected
 * HMAC-SHA256 always has the public length of 32 bytes.
 */
export function matchesAny(expected: readonly Buffer[], given: readonly Buffer[]): boolean {
  let matched = false;
  for (const e of expected) {
    for (const g of given) {
      const equal = e.length === g.length && timingSafeEqual(e, g);
      matched = equal || matched;
    }
  }
  return matched;
}

/**
 * Checks a signed timestamp (whole seconds since the epoch) against replays: a problem when
 * it is malformed, older than `toleranceMs`, or more than `toleranceMs` in the future.
 */
export function timestampProblem(value: string, nowMs: number, toleranceMs: number): string | undefined {
  if (!/^\d{1,12}$/.test(value)) return 'the signed timestamp is not a number of seconds';
  const ageMs = nowMs - Number(value) * 1000;
  if (ageMs > toleranceMs) return 'the signed timestamp is too old (outside the tolerance)';
  if (-ageMs > toleranceMs) return 'the signed timestamp is in the future (outside the tolerance)';
  return undefined;
}
