import express, { type NextFunction, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import type { Registry } from 'prom-client';
import { isConnectionError, ping } from '@orchestron/db';
import { runChecks, type IngestMetrics, type Logger, errorFields } from '@orchestron/observability';
import { routeEvent, type RoutingDefaults } from '@orchestron/routing';
import type { SchemaRegistry } from '@orchestron/schemas';
import { parseJsonBody, requireJsonContentType } from './body';
import { parseEnvelopes } from './envelope';
import { recordHttpMetrics, routeLabel } from './http-metrics';
import { Problem, sendProblem } from './problem';
import { limitRequests } from './rate-limit';
import { requestId, requestIdOf } from './request-id';
import { storeEvents } from './store-events';
import { validateEvents } from './validate-events';

export interface IngestSettings {
  maxPayloadBytes: number;
  maxBatchSize: number;
  rateLimit: number;
  rateLimitBurst: number;
  trustProxy: boolean;
  routing: RoutingDefaults;
}

export interface IngestDependencies {
  db: Knex;
  schemas: SchemaRegistry;
  logger: Logger;
  registry: Registry;
  metrics: IngestMetrics;
  settings: IngestSettings;
}

/** Events without a `source` in their envelope are stored under this one. */
export const DEFAULT_SOURCE = 'default';

/** The ingest HTTP API. It writes to Postgres only; it never talks to a broker. */
export function createIngestApp(deps: IngestDependencies): express.Express {
  const { db, schemas, logger, metrics, settings } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', settings.trustProxy);
  app.use(requestId, recordHttpMetrics(metrics));

  app.get('/health', routeLabel('/health'), (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/ready', routeLabel('/ready'), async (_req, res) => {
    const report = await runChecks([{ name: 'database', check: () => ping(db) }]);
    res.status(report.ready ? 200 : 503).json(report);
  });

  app.get('/metrics', routeLabel('/metrics'), async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });

  app.post(
    '/events',
    routeLabel('/events'),
    limitRequests({ ratePerSecond: settings.rateLimit, burst: settings.rateLimitBurst }),
    (req, _res, next) => {
      requireJsonContentType(req);
      next();
    },
    express.raw({ type: () => true, limit: settings.maxPayloadBytes }),
    async (req, res) => {
      const body = parseJsonBody(req.body);
      const { events, batch } = parseEnvelopes(body, settings.maxBatchSize);
      const versions = validateEvents(schemas, events, batch);
      const rid = requestIdOf(res);
      const toStore = events.map((e, i) => {
        const source = e.source ?? DEFAULT_SOURCE;
        return {
          source,
          type: e.type,
          schemaVersion: versions[i] as number,
          idempotencyKey: e.id,
          data: e.data,
          headers: {
            'content-type': 'application/json',
            'request-id': rid,
            ...(e.time ? { time: e.time } : {}),
          },
          destinations: routeEvent({ type: e.type, source, partitionKey: e.partitionKey }, settings.routing),
        };
      });
      const stored = await storeEvents(db, toStore);
      const allDuplicates = stored.every((s) => !s.inserted);
      stored.forEach((s, i) => {
        const e = toStore[i] as (typeof toStore)[number];
        metrics.eventsReceived.inc({ source: e.source, type: e.type, outcome: s.inserted ? 'accepted' : 'duplicate' });
      });
      logger.debug('events stored', { requestId: rid, eventIds: stored.map((s) => s.id), count: stored.length });
      res.status(allDuplicates ? 200 : 202).json(batch ? { ids: stored.map((s) => s.id) } : { id: stored[0]?.id });
    },
  );

  app.use((req, res) => {
    sendProblem(
      res,
      new Problem(404, 'not-found', 'Not found', `no route for ${req.method} ${req.path}`),
      requestIdOf(res),
      req.originalUrl,
    );
  });

  // Express 5 forwards rejected promises of async handlers here.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const problem = toProblem(error);
    if (problem.status >= 500) {
      logger.error('request failed', { requestId: requestIdOf(res), path: req.path, ...errorFields(error) });
    }
    if (req.path === '/events' && problem.status < 500 && problem.status !== 429) {
      metrics.eventsReceived.inc({ source: 'unknown', type: 'unknown', outcome: 'rejected' });
    }
    sendProblem(res, problem, requestIdOf(res), req.originalUrl);
  });

  return app;
}

function toProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  const bodyError = error as { type?: string; status?: number; limit?: number };
  if (bodyError.type === 'entity.too.large') {
    return new Problem(
      413,
      'payload-too-large',
      'Payload too large',
      `the body exceeds the limit of ${bodyError.limit} bytes`,
    );
  }
  if (bodyError.type === 'request.aborted' || bodyError.type === 'request.size.invalid') {
    return new Problem(400, 'bad-request', 'Bad request', 'the request body was not received completely');
  }
  if (bodyError.type === 'encoding.unsupported') {
    return new Problem(415, 'unsupported-media-type', 'Unsupported content encoding', 'send the body uncompressed');
  }
  if (isConnectionError(error)) {
    return new Problem(
      503,
      'database-unavailable',
      'Service unavailable',
      'the event store cannot be reached; retry later',
      undefined,
      {
        'Retry-After': '5',
      },
    );
  }
  return new Problem(500, 'internal-error', 'Internal error', 'the request could not be processed; nothing was stored');
}
