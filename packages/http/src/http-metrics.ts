import type { NextFunction, Request, Response } from 'express';
import type { HttpMetrics } from '@orchestron/observability';

/** Counts and times every request by method, matched route and status. */
export function recordHttpMetrics(metrics: HttpMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const end = metrics.duration.startTimer();
    res.on('finish', () => {
      const route = (res.locals.route as string | undefined) ?? 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.requests.inc(labels);
      end(labels);
    });
    next();
  };
}

/** Names the route for metrics (a fixed label, never the raw URL, to bound cardinality). */
export function routeLabel(route: string) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.locals.route = route;
    next();
  };
}
