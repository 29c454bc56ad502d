import type { RequestHandler } from 'express';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import { apiKeyOf } from './authenticate';
import { Problem, sendProblem } from './problem';
import { requestIdOf } from './request-id';

export interface RateLimits {
  ratePerSecond: number;
  burst: number;
}

/**
 * Per-client limit (per API key; per IP for requests without one) over a one-second window: `rate_limit` requests per second plus
 * `rate_limit_burst` extra. Counters live in this process (per replica); see
 * docs/architecture.md. A limit of 0 turns limiting off. The limits are read per request,
 * so a configuration reload applies to the next one.
 */
export function limitRequests(limits: () => RateLimits): RequestHandler {
  return rateLimit({
    windowMs: 1_000,
    limit: () => limits().ratePerSecond + limits().burst,
    skip: () => limits().ratePerSecond === 0,
    // Draft 7's `RateLimit: limit=, remaining=, reset=`: draft 8 adds a partition key, a SHA-256
    // of the client's key computed on every request.
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req, res) => {
      const apiKey = apiKeyOf(res);
      return apiKey ? `key:${apiKey.id}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
    handler: (req, res, _next, limiterOptions) => {
      const retryAfter = String(Math.ceil(limiterOptions.windowMs / 1000));
      sendProblem(
        res,
        new Problem(
          429,
          'rate-limited',
          'Too many requests',
          'slow down and retry after the time in Retry-After',
          undefined,
          {
            'Retry-After': retryAfter,
          },
        ),
        requestIdOf(res),
        req.originalUrl,
      );
    },
  });
}
