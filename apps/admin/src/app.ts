import express, { type NextFunction, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import type { Registry } from 'prom-client';
import { insertAuditEntry, isConnectionError, ping, type PayloadCipher } from '@orchestron/db';
import {
  answerNoRoute,
  apiKeyOf,
  authenticate,
  limitRequests,
  logAccess,
  Problem,
  recordHttpMetrics,
  requestId,
  requestIdOf,
  requireClientCertificate,
  routeLabel,
  sendProblem,
  type ApiKeyCache,
} from '@orchestron/http';
import { errorFields, runChecks, type HealthCheck, type HttpMetrics, type Logger } from '@orchestron/observability';
import { expressPath, type AdminRoute } from './access/route-table';
import { refusalReason } from './access/authorize';
import { scopeOf } from './access/scope';
import { openApiDocument } from './openapi/document';
import { RequestBodies, requestBodyPointer } from './request-body';
import { adminRoutes } from './routes';

export interface AdminSettings {
  rateLimit: number;
  rateLimitBurst: number;
  trustProxy: boolean;
  /** Mutual TLS (admin.tls.ca_file): refuse requests without a verified client certificate. */
  requireClientCertificate?: boolean;
  /** How long a rotated key's old secret keeps working unless the request asks for less. */
  keyRotationGraceMs: number;
  /** Largest page a list returns. */
  maxPageSize: number;
  /** Replays started here: events per second when a request names none, and the most one may ask for. */
  replay: { defaultRateLimit: number; maxRateLimit: number };
}

export interface AdminDependencies {
  db: Knex;
  apiKeys: ApiKeyCache;
  logger: Logger;
  registry: Registry;
  metrics: HttpMetrics;
  /** Read per request: a configuration reload replaces rateLimit and rateLimitBurst in this object. */
  settings: AdminSettings;
  /** Reads payloads stored encrypted (encryption.keys). */
  cipher?: PayloadCipher;
  /** Readiness checks besides the database (event loop, memory). */
  readiness?: readonly HealthCheck[];
  /** The replay runner of this process (replay.concurrency > 0). */
  replayRunner?: { wake(): void };
}

/** Largest JSON body the admin API reads (selections of ids, key definitions). */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * The admin HTTP API. Every /v1 route comes from routes/index.ts and passes the same steps
 * here: authentication, the per-key rate limit, its permission (the one place requests are
 * authorised), then its body is checked against its OpenAPI schema.
 */
export function createAdminApp(deps: AdminDependencies): express.Express {
  const { db, logger, metrics, settings } = deps;
  const routes = adminRoutes(deps);
  const bodies = new RequestBodies(openApiDocument(routes));
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', settings.trustProxy);
  app.use(requestId, recordHttpMetrics(metrics), logAccess(logger));
  app.use((_req, res, next) => {
    // Answers carry event payloads and key listings: never cached by a browser or proxy.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  if (settings.requireClientCertificate) app.use(requireClientCertificate(['/health', '/ready']));

  app.get('/health', routeLabel('/health'), (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', routeLabel('/ready'), async (_req, res) => {
    const report = await runChecks([{ name: 'database', check: () => ping(db) }, ...(deps.readiness ?? [])]);
    res.status(report.ready ? 200 : 503).json(report);
  });
  app.get('/metrics', routeLabel('/metrics'), async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });

  const authenticateKey = authenticate(deps.apiKeys, { required: false });
  const limit = limitRequests(() => ({ ratePerSecond: settings.rateLimit, burst: settings.rateLimitBurst }));
  const json = express.json({ limit: MAX_BODY_BYTES, type: 'application/json' });
  const readJson = (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => json(req, res, (error?: unknown) => (error ? reject(error) : resolve())));
  for (const route of routes) {
    app[route.method](
      expressPath(route.path),
      routeLabel(route.path),
      authenticateKey,
      limit,
      async (req: Request, res: Response) => {
        const key = apiKeyOf(res);
        if (route.permission !== 'public') {
          if (!key) throw unauthorized();
          const lacks = refusalReason(route, key);
          if (lacks) {
            // The audit entry of a refused change records what was asked for, when it can be read.
            if (route.auditAction && route.operation.requestBody) await readJson(req, res).catch(() => undefined);
            await refuse(deps, route, req, res, lacks);
          }
        }
        if (route.operation.requestBody) {
          await readJson(req, res);
          if (req.body === undefined && hasBody(req)) {
            throw new Problem(
              415,
              'unsupported-media-type',
              'Unsupported media type',
              'send the body as application/json',
            );
          }
          req.body ??= {};
          bodies.check(requestBodyPointer(route.path, route.method), req.body);
        }
        await route.handle(req, res, { key, scope: scopeOf(key), requestId: requestIdOf(res) });
      },
    );
  }

  app.use(answerNoRoute);

  // Express 5 forwards rejected promises of async handlers here.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const problem = toProblem(error);
    if (problem.status >= 500) {
      logger.error('request failed', { requestId: requestIdOf(res), path: req.path, ...errorFields(error) });
    }
    sendProblem(res, problem, requestIdOf(res), req.originalUrl);
  });

  return app;
}

const unauthorized = (): Problem =>
  new Problem(
    401,
    'unauthorized',
    'Unauthorized',
    'an API key is required (Authorization: Bearer <key> or X-API-Key)',
    undefined,
    { 'WWW-Authenticate': 'Bearer realm="orchestron-admin"' },
  );

/**
 * 403 for a key whose roles lack the route's permission. An attempt at a state-changing route
 * is written to the audit log first, in its own transaction: nothing else changed.
 */
async function refuse(
  deps: AdminDependencies,
  route: AdminRoute,
  req: Request,
  res: Response,
  reason: string,
): Promise<never> {
  const key = apiKeyOf(res);
  const detail = `the API key "${key?.name}" (roles: ${key?.roles.join(', ') || 'none'}) ${reason}`;
  if (route.auditAction && key) {
    await insertAuditEntry(deps.db, {
      actor: key.name,
      action: route.auditAction,
      outcome: 'refused',
      target: { ...req.params, ...(isObject(req.body) ? { body: req.body } : {}) },
      result: { status: 403, reason },
      requestId: requestIdOf(res),
    });
  }
  throw new Problem(403, 'forbidden', 'Forbidden', detail);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasBody(req: Request): boolean {
  return Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
}

function toProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  const bodyError = error as { type?: string; limit?: number };
  if (bodyError.type === 'entity.parse.failed') {
    return new Problem(400, 'malformed-json', 'Malformed JSON', 'the request body is not valid JSON');
  }
  if (bodyError.type === 'entity.too.large') {
    return new Problem(413, 'payload-too-large', 'Payload too large', `the body exceeds ${bodyError.limit} bytes`);
  }
  if (bodyError.type === 'request.aborted' || bodyError.type === 'request.size.invalid') {
    return new Problem(400, 'bad-request', 'Bad request', 'the request body was not received completely');
  }
  if (bodyError.type === 'encoding.unsupported' || bodyError.type === 'charset.unsupported') {
    return new Problem(415, 'unsupported-media-type', 'Unsupported content encoding', 'send the body as UTF-8 JSON');
  }
  if (isConnectionError(error)) {
    return new Problem(
      503,
      'database-unavailable',
      'Service unavailable',
      'the database cannot be reached; retry later',
      undefined,
      {
        'Retry-After': '5',
      },
    );
  }
  return new Problem(500, 'internal-error', 'Internal error', 'the request could not be processed');
}
