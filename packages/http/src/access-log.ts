import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@orchestron/observability';
import { requestIdOf } from './request-id';

/**
 * One debug line per answered request: method, matched route (never the raw URL, which may
 * carry tokens), status, duration and request id. At debug so busy deployments log nothing
 * per request unless asked to (log.level is reloadable, so the level is checked per request;
 * below debug nothing is timed or listened for).
 */
export function logAccess(logger: Pick<Logger, 'debug' | 'enabled'>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!logger.enabled('debug')) return next();
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.debug('request', {
        requestId: requestIdOf(res),
        method: req.method,
        route: (res.locals.route as string | undefined) ?? 'unmatched',
        status: res.statusCode,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e3) / 1e3,
      });
    });
    next();
  };
}
