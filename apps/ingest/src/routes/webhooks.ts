import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { acceptEvents, type AcceptDependencies } from '../accept-events';
import { readJsonBody, requireJsonContentType } from '../body';
import { routeLabel, Problem, requestIdOf } from '@orchestron/http';
import { sendJson } from '../json-response';
import { traceContextOf } from '../trace-context';
import type { WebhookSource } from '../webhooks/sources';
import type { SignedDelivery } from '../webhooks/verifier';
import { webhookEvent } from '../webhooks/webhook-event';

export interface WebhooksSettings {
  maxPayloadBytes: number;
  /** The configured sources, read per request (so a config reload can swap them). */
  sources: () => ReadonlyMap<string, WebhookSource>;
  /** The clock signed timestamps are checked against (tests set it). */
  now?: () => number;
}

const ROUTE = '/webhooks/:source';

function sourceOf(res: Response): WebhookSource | undefined {
  return res.locals.webhookSource as WebhookSource | undefined;
}

/**
 * POST /webhooks/:source: one raw delivery of a third-party sender. The signature is checked
 * on the body bytes as received, before the body is parsed; the delivery then takes the one
 * acceptance path (acceptEvents) as a single event of source `:source`.
 */
export function webhooksRouter(
  deps: AcceptDependencies,
  settings: WebhooksSettings,
  guards: express.RequestHandler[],
): Router {
  const now = settings.now ?? Date.now;
  const router = express.Router();
  router.post(
    ROUTE,
    routeLabel(ROUTE),
    ...guards,
    (req: Request<{ source: string }>, res, next) => {
      const source = settings.sources().get(req.params.source);
      if (!source) {
        throw new Problem(
          404,
          'unknown-source',
          'Unknown webhook source',
          'no webhook source of this name is configured',
        );
      }
      res.locals.webhookSource = source;
      requireJsonContentType(req);
      next();
    },
    express.raw({ type: () => true, limit: settings.maxPayloadBytes }),
    async (req, res) => {
      const source = sourceOf(res) as WebhookSource;
      const delivery: SignedDelivery = {
        header: (name) => req.get(name),
        body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      };
      const verification = source.verify(delivery, now());
      if (!verification.ok) {
        deps.logger.warn('webhook delivery rejected', {
          requestId: requestIdOf(res),
          source: source.name,
          reason: verification.reason,
        });
        throw new Problem(401, 'invalid-signature', 'Invalid webhook signature', verification.reason);
      }
      const body = readJsonBody(req.body);
      const event = webhookEvent(source, delivery, body.value);
      const result = await acceptEvents(
        deps,
        [event],
        {
          requestId: requestIdOf(res),
          defaultSource: source.name,
          apiKeyName: null,
          ...traceContextOf(req),
          unknownTypes: source.unknownTypes,
          staticFields: source.staticFields,
        },
        { batch: false, body: body.text },
      );
      sendJson(res, result.status, result.body);
    },
  );
  // Counts rejected deliveries by source, then leaves the response to the app's error handler.
  router.use(ROUTE, (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = error instanceof Problem ? error.status : (error as { status?: number }).status;
    if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
      deps.metrics.eventsReceived.inc({
        source: sourceOf(res)?.name ?? 'unknown',
        type: 'unknown',
        outcome: 'rejected',
      });
    }
    next(error);
  });
  return router;
}
