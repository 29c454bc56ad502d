import express, { type Router } from 'express';
import { acceptEvents, DEFAULT_SOURCE, type AcceptDependencies } from '../accept-events';
import { parseJsonBody, requireJsonContentType } from '../body';
import { parseEnvelopes } from '../envelope';
import { Problem } from '../problem';
import { apiKeyOf } from '../auth/authenticate';
import { authorizeEvents } from '../auth/authorize';
import { routeLabel } from '../http-metrics';
import { traceContextOf } from '../trace-context';
import { requestIdOf } from '../request-id';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** The Idempotency-Key header; 400 when it is not 1-200 printable ASCII characters. */
function idempotencyKeyOf(req: express.Request): string | null {
  const value = req.get('idempotency-key');
  if (value === undefined) return null;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new Problem(
      400,
      'invalid-idempotency-key',
      'Invalid Idempotency-Key',
      'use 1 to 200 printable ASCII characters',
    );
  }
  return value;
}

/** POST /events: one native envelope or a batch of them. */
export function eventsRouter(
  deps: AcceptDependencies,
  settings: { maxPayloadBytes: number; maxBatchSize: number },
  guards: express.RequestHandler[],
): Router {
  const router = express.Router();
  router.post(
    '/events',
    routeLabel('/events'),
    ...guards,
    (req, _res, next) => {
      requireJsonContentType(req);
      next();
    },
    express.raw({ type: () => true, limit: settings.maxPayloadBytes }),
    async (req, res) => {
      const { events, batch } = parseEnvelopes(parseJsonBody(req.body), settings.maxBatchSize, idempotencyKeyOf(req));
      const apiKey = apiKeyOf(res);
      const defaultSource = apiKey?.name ?? DEFAULT_SOURCE;
      authorizeEvents(apiKey, events, defaultSource);
      const result = await acceptEvents(
        deps,
        events,
        { requestId: requestIdOf(res), defaultSource, apiKeyName: apiKey?.name ?? null, ...traceContextOf(req) },
        { batch },
      );
      res.status(result.status).json(result.body);
    },
  );
  return router;
}
