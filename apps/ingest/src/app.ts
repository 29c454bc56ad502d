import express, { type NextFunction, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import type { Registry } from 'prom-client';
import type { WebhookSourcesConfig } from '@orchestron/config';
import { isConnectionError, ping, type PayloadCipher } from '@orchestron/db';
import { runChecks, type HealthCheck, type IngestMetrics, type Logger, errorFields } from '@orchestron/observability';
import type { RoutingTable } from '@orchestron/routing';
import type { SchemaRegistry } from '@orchestron/schemas';
import {
  answerNoRoute,
  logAccess,
  requireClientCertificate,
  recordHttpMetrics,
  routeLabel,
  Problem,
  sendProblem,
  limitRequests,
  requestId,
  requestIdOf,
  type ApiKeyCache,
  authenticate,
} from '@orchestron/http';
import type { OutboxNotifier } from './outbox-notifier';
import { eventsRouter } from './routes/events';
import { webhooksRouter } from './routes/webhooks';
import { compileWebhookSources, type WebhookSource } from './webhooks/sources';

export interface IngestSettings {
  maxPayloadBytes: number;
  maxBatchSize: number;
  rateLimit: number;
  rateLimitBurst: number;
  trustProxy: boolean;
  /** How far in the future an event time may lie (sender clock skew). */
  maxClockSkewMs: number;
  /** Source globs whose events of an unknown type are stored unvalidated (schemas.accept_unknown_types_from). */
  acceptUnknownTypesFrom?: string[];
  /** Refuse requests without an API key (401); a presented key is always checked. */
  requireApiKey: boolean;
  /** Mutual TLS (api.tls.ca_file): refuse requests without a verified client certificate. */
  requireClientCertificate?: boolean;
  routing: RoutingTable;
  /** Senders of POST /webhooks/:source (config `sources`); none when absent. */
  webhookSources?: WebhookSourcesConfig;
}

export interface IngestDependencies {
  db: Knex;
  apiKeys: ApiKeyCache;
  schemas: SchemaRegistry;
  logger: Logger;
  registry: Registry;
  metrics: IngestMetrics;
  /**
   * Read per request: a configuration reload replaces routing, rateLimit, rateLimitBurst,
   * maxClockSkewMs and webhookSources in this object (and `schemas` above).
   */
  settings: IngestSettings;
  /** Readiness checks besides the database (event loop, memory). */
  readiness?: readonly HealthCheck[];
  /** Encrypts stored payloads when an encryption key is active (encryption.*). */
  cipher?: PayloadCipher;
  /** Wakes the relays after commits that wrote outbox rows (coalesced NOTIFYs). */
  notifier: OutboxNotifier;
}

/** The ingest HTTP API. It writes to Postgres only; it never talks to a broker. */
export function createIngestApp(deps: IngestDependencies): express.Express {
  const { db, logger, metrics, settings } = deps;
  const acceptDeps = {
    db,
    logger,
    metrics,
    schemas: () => deps.schemas,
    routing: () => settings.routing,
    maxClockSkewMs: () => settings.maxClockSkewMs,
    acceptUnknownTypesFrom: () => settings.acceptUnknownTypesFrom ?? [],
    cipher: deps.cipher,
    notifier: deps.notifier,
  };
  const limits = () => ({ ratePerSecond: settings.rateLimit, burst: settings.rateLimitBurst });
  const app = express();
  app.disable('x-powered-by');
  // Every answer names new ids or a problem: an ETag (a hash of each body) would never match.
  app.set('etag', false);
  app.set('trust proxy', settings.trustProxy);
  app.use(requestId, recordHttpMetrics(metrics), logAccess(logger));
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

  app.use(
    eventsRouter(acceptDeps, { maxPayloadBytes: settings.maxPayloadBytes, maxBatchSize: settings.maxBatchSize }, [
      authenticate(deps.apiKeys, { required: settings.requireApiKey }),
      limitRequests(limits),
    ]),
  );

  // Webhook senders authenticate by their signature, not by an API key.
  app.use(
    webhooksRouter(acceptDeps, { maxPayloadBytes: settings.maxPayloadBytes, sources: webhookSourcesOf(settings) }, [
      limitRequests(limits),
    ]),
  );

  app.use(answerNoRoute);

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

/** The compiled webhook sources, compiled again when a reload replaces settings.webhookSources. */
function webhookSourcesOf(settings: IngestSettings): () => ReadonlyMap<string, WebhookSource> {
  let compiledFrom = settings.webhookSources;
  let compiled = compileWebhookSources(compiledFrom ?? {});
  return () => {
    if (settings.webhookSources !== compiledFrom) {
      compiledFrom = settings.webhookSources;
      compiled = compileWebhookSources(compiledFrom ?? {});
    }
    return compiled;
  };
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
  // 22P05 untranslatable character (a \u0000 in JSON), 22021 character not in repertoire:
  // text Postgres cannot store. The sender's input, not our fault, and retrying won't help.
  const code = (error as { code?: string }).code;
  if (code === '22P05' || code === '22021') {
    return new Problem(
      400,
      'unstorable-text',
      'Unstorable text',
      'the event contains a NUL character (\\u0000) or other text that cannot be stored',
    );
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
