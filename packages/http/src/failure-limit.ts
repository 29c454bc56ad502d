import type { Request } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { Problem } from './problem';

export interface AuthFailureLimits {
  /** Failures allowed per address and window; 0 turns counting off. */
  limit: number;
  windowMs: number;
}

/** Addresses tracked at most per window: a flood from more addresses is not counted beyond it. */
const MAX_TRACKED_ADDRESSES = 100_000;

/**
 * Counts failed authentications (a missing, unknown or revoked API key, an invalid webhook
 * signature) per client address over a fixed window, in this process. Past `limit` failures an
 * address's next failure is answered 429 instead of 401, and an unknown key from it no longer
 * makes ingest reload the keys from the database. Only failures are limited: a valid key or
 * signature from the same address (a NAT, a proxy) is served as always.
 */
export class AuthFailureLimiter {
  private failures = new Map<string, number>();
  private windowStart = 0;

  constructor(
    private readonly limits: () => AuthFailureLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the address has used up its failures in this window. */
  exhausted(req: Request): boolean {
    const { limit } = this.limits();
    return limit > 0 && (this.window().get(addressOf(req)) ?? 0) >= limit;
  }

  /**
   * Counts a failure and returns what to answer: the 401 given, or a 429 with RateLimit and
   * Retry-After headers once the address is past its limit.
   */
  failed(req: Request, unauthorized: Problem): Problem {
    const { limit, windowMs } = this.limits();
    if (limit === 0) return unauthorized;
    const failures = this.window();
    const address = addressOf(req);
    const count = (failures.get(address) ?? 0) + 1;
    if (failures.has(address) || failures.size < MAX_TRACKED_ADDRESSES) failures.set(address, count);
    if (count <= limit) return unauthorized;
    const reset = Math.max(1, Math.ceil((this.windowStart + windowMs - this.now()) / 1000));
    return new Problem(
      429,
      'too-many-failed-authentications',
      'Too many failed authentications',
      `more than ${limit} failed authentications from this address; retry after the time in Retry-After`,
      undefined,
      {
        'Retry-After': String(reset),
        RateLimit: `limit=${limit}, remaining=0, reset=${reset}`,
        'RateLimit-Policy': `${limit};w=${Math.ceil(windowMs / 1000)}`,
      },
    );
  }

  private window(): Map<string, number> {
    const now = this.now();
    if (now - this.windowStart >= this.limits().windowMs) {
      this.failures = new Map();
      this.windowStart = now;
    }
    return this.failures;
  }
}

/** The client's address (X-Forwarded-For with api.trust_proxy); IPv6 by its /56, as rate limiting does. */
function addressOf(req: Request): string {
  return ipKeyGenerator(req.ip ?? 'unknown');
}
