import express, { type Router } from 'express';
import { acceptEvents, DEFAULT_SOURCE, type AcceptDependencies } from '../accept-events';
import { parseJsonBody, requireJsonContentType } from '../body';
import { parseEnvelopes } from '../envelope';
import { apiKeyOf } from '../auth/authenticate';
import { authorizeEvents } from '../auth/authorize';
import { routeLabel } from '../http-metrics';
import { traceContextOf } from '../trace-context';
import { requestIdOf } from '../request-id';

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
      const { events, batch } = parseEnvelopes(parseJsonBody(req.body), settings.maxBatchSize);
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
