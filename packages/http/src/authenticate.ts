import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ApiKeyRecord } from '@orchestron/db';
import { Problem } from './problem';
import type { ApiKeyCache } from './api-key-cache';
import type { AuthFailureLimiter } from './failure-limit';

/** The key that authenticated this request, if any. */
export function apiKeyOf(res: Response): ApiKeyRecord | undefined {
  return res.locals.apiKey as ApiKeyRecord | undefined;
}

function presentedKey(req: Request): string | undefined {
  const authorization = req.get('authorization');
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1] : '';
  }
  return req.get('x-api-key');
}

const unauthorized = (detail: string): Problem =>
  new Problem(401, 'unauthorized', 'Unauthorized', detail, undefined, {
    'WWW-Authenticate': 'Bearer realm="orchestron"',
  });

/** An unknown key triggers a reload of the keys at most this often. */
const UNKNOWN_KEY_RELOAD_MS = 1_000;

/**
 * Authenticates `Authorization: Bearer <key>` or `X-API-Key: <key>`. A presented key must be
 * valid (401 otherwise) whether or not keys are required; without one the request passes only
 * when `required` is false.
 */
export function authenticate(
  cache: ApiKeyCache,
  options: { required: boolean; failures: AuthFailureLimiter },
): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = presentedKey(req);
    if ((key !== undefined || options.required) && !cache.isLoaded()) {
      throw new Problem(
        503,
        'database-unavailable',
        'Service unavailable',
        'API keys cannot be loaded yet; retry later',
        undefined,
        {
          'Retry-After': '5',
        },
      );
    }
    if (key === undefined) {
      if (options.required) {
        throw options.failures.failed(
          req,
          unauthorized('an API key is required (Authorization: Bearer <key> or X-API-Key)'),
        );
      }
      return next();
    }
    let record = key === '' ? undefined : cache.authenticate(key);
    if (!record && key !== '' && !options.failures.exhausted(req)) {
      // Perhaps created since the last reload: look again before refusing it (not for an
      // address that keeps presenting wrong keys: that would be a way to load the database).
      await cache.refreshIfOlderThan(UNKNOWN_KEY_RELOAD_MS);
      record = cache.authenticate(key);
    }
    if (!record) throw options.failures.failed(req, unauthorized('the API key is not valid or has been revoked'));
    res.locals.apiKey = record;
    next();
  };
}
