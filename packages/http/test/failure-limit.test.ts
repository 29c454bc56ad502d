import type { Request } from 'express';
import { AuthFailureLimiter } from '@orchestron/http';
import { Problem } from '../src/problem';

const from = (ip: string) => ({ ip }) as Request;
const unauthorized = new Problem(401, 'unauthorized', 'Unauthorized');

describe('AuthFailureLimiter', () => {
  let now = 0;
  const limiter = (limit: number) =>
    new AuthFailureLimiter(
      () => ({ limit, windowMs: 60_000 }),
      () => now,
    );
  beforeEach(() => {
    now = 1_000_000;
  });

  it('answers 401 up to the limit, then 429 with the time left in the window', () => {
    const failures = limiter(3);
    const statuses = Array.from({ length: 5 }, () => failures.failed(from('10.0.0.1'), unauthorized).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    now += 20_000;
    const limited = failures.failed(from('10.0.0.1'), unauthorized);
    expect(limited.headers).toEqual({
      'Retry-After': '40',
      RateLimit: 'limit=3, remaining=0, reset=40',
      'RateLimit-Policy': '3;w=60',
    });
    expect(failures.exhausted(from('10.0.0.1'))).toBe(true);
  });

  it('counts each address on its own, IPv6 by its /56', () => {
    const failures = limiter(1);
    failures.failed(from('10.0.0.1'), unauthorized);
    expect(failures.exhausted(from('10.0.0.2'))).toBe(false);
    failures.failed(from('2001:db8:0:1::1'), unauthorized);
    expect(failures.exhausted(from('2001:db8:0:1::ffff'))).toBe(true);
  });

  it('forgets the failures when the window has passed', () => {
    const failures = limiter(1);
    failures.failed(from('10.0.0.1'), unauthorized);
    expect(failures.failed(from('10.0.0.1'), unauthorized).status).toBe(429);
    now += 60_000;
    expect(failures.exhausted(from('10.0.0.1'))).toBe(false);
    expect(failures.failed(from('10.0.0.1'), unauthorized).status).toBe(401);
  });

  it('counts nothing with a limit of 0', () => {
    const failures = limiter(0);
    for (let i = 0; i < 100; i++) expect(failures.failed(from('10.0.0.1'), unauthorized).status).toBe(401);
    expect(failures.exhausted(from('10.0.0.1'))).toBe(false);
  });
});
