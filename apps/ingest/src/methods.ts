import type { Request, RequestHandler, Response } from 'express';
import { Problem, requestIdOf, sendProblem } from '@orchestron/http';

/**
 * Answers the methods a known path does not serve, registered after the path's own handlers:
 * OPTIONS gets 204 with `Allow` (instead of express's text/plain list), any other method 405
 * problem+json with `Allow` (instead of falling through to 404). The served methods never
 * reach it, so it costs the hot path nothing.
 */
export function otherMethods(served: readonly string[]): RequestHandler {
  const allow = [...served, ...(served.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
  return (req: Request, res: Response) => {
    res.setHeader('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    sendProblem(
      res,
      new Problem(
        405,
        'method-not-allowed',
        'Method not allowed',
        `${req.method} is not served here; use ${served.join(' or ')}`,
      ),
      requestIdOf(res),
      req.originalUrl,
    );
  };
}
