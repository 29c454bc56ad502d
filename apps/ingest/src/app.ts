import express, { type NextFunction, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import type { Registry } from 'prom-client';
import type { WebhookSourcesConfig } from '@orchestron/config';
import { ping, type PayloadCipher } from '@orchestron/db';
import { runChecks, type HealthCheck, type IngestMetrics, type Logger, errorFields } from '@orchestron/observability';
import type { RoutingTable } from '@orchestron/routing';
import type { SchemaRegistry } from '@orchestron/schemas';
import { DEFAULT_SOURCE } from './accept-events';
import {
  answerNoRoute,
  AuthFailureLimiter,
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
import { DEFAULT_MAX_MESSAGE_BYTES, type SizeLimits } from './message-size';
import { otherMethods } from './methods';
import { DEFAULT_NUMBER_LIMITS, type NumberLimits } from './written-size';
import type { OutboxNotifier } from './outbox-notifier';
import { toProblem } from './to-problem';
import { eventsRouter } from './routes/events';
import { webhooksRouter } from './routes/webhooks';
import { compileWebhookSources, type WebhookSource } from './webhooks/sources';

export interface IngestSettings {
  maxPayloadBytes: number;
  maxBatchSize: number;
  /** api.max_number_digits, api.max_number_exponent (defaults: DEFAULT_NUMBER_LIMITS). */
  numberLimits?: NumberLimits;
  /** api.max_message_size per broker (defaults: DEFAULT_MAX_MESSAGE_BYTES). */
  maxMessageBytes?: SizeLimits['maxMessageBytes'];
  /** api.auth_failure_limit per api.auth_failure_window and client address; 0 or absent: not limited. */
  authFailureLimit?: number;
  authFailureWindowMs?: number;
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
   * Read per request: a configuration reload replaces this object whole (and `schemas`
   * above) with settings built from the new configuration, never field by field, so no
   * reloadable setting can be left behind. Keys read only at start keep their values, as the
   * reloader keeps them in the configuration it applies.
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
  // Start-only settings are read here once; reloadable ones through deps.settings per request.
  const { db, logger, metrics, settings } = deps;
  const acceptDeps = {
    db,
    logger,
    metrics,
    schemas: () => deps.schemas,
    routing: () => deps.settings.routing,
    maxClockSkewMs: () => deps.settings.maxClockSkewMs,
    acceptUnknownTypesFrom: () => deps.settings.acceptUnknownTypesFrom ?? [],
    knownSource: (source: string) =>
      source === DEFAULT_SOURCE || Object.hasOwn(deps.settings.webhookSources ?? {}, source),
    cipher: deps.cipher,
    notifier: deps.notifier,
    sizeLimits: {
      maxPayloadBytes: settings.maxPayloadBytes,
      numbers: settings.numberLimits ?? DEFAULT_NUMBER_LIMITS,
      maxMessageBytes: settings.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    },
  };
  const limits = () => ({ ratePerSecond: deps.settings.rateLimit, burst: deps.settings.rateLimitBurst });
  const authFailures = new AuthFailureLimiter(() => ({
    limit: deps.settings.authFailureLimit ?? 0,
    windowMs: deps.settings.authFailureWindowMs ?? 60_000,
  }));
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
  app.all(['/health', '/ready', '/metrics'], otherMethods(['GET']));

  app.use(
    eventsRouter(acceptDeps, { maxPayloadBytes: settings.maxPayloadBytes, maxBatchSize: settings.maxBatchSize }, [
      authenticate(deps.apiKeys, { required: settings.requireApiKey, failures: authFailures }),
      limitRequests(limits),
    ]),
  );

  // Webhook senders authenticate by their signature, not by an API key.
  app.use(
    webhooksRouter(
      acceptDeps,
      {
        maxPayloadBytes: settings.maxPayloadBytes,
        sources: webhookSourcesOf(() => deps.settings.webhookSources),
        authFailures,
      },
      [limitRequests(limits)],
    ),
  );

  app.use(answerNoRoute);

  // Express 5 forwards rejected promises of async handlers here.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const problem = toProblem(error, req);
    if (problem.status >= 500) {
      logger.error('request failed', { requestId: requestIdOf(res), path: req.path, ...errorFields(error) });
    } else if (!(error instanceof Problem)) {
      // A client fault found by a library (body-parser, the router, Postgres): worth a trace, not an alert.
      logger.debug('request refused', { requestId: requestIdOf(res), status: problem.status, reason: problem.slug });
    }
    if (req.path === '/events' && problem.status < 500 && problem.status !== 429) {
      metrics.eventsReceived.inc({ source: 'unknown', type: 'unknown', outcome: 'rejected' });
    }
    sendProblem(res, problem, requestIdOf(res), req.originalUrl);
  });

  return app;
}

/** The compiled webhook sources, compiled again when a reload brings new settings. */
function webhookSourcesOf(current: () => WebhookSourcesConfig | undefined): () => ReadonlyMap<string, WebhookSource> {
  let compiledFrom = current();
  let compiled = compileWebhookSources(compiledFrom ?? {});
  return () => {
    const sources = current();
    if (sources !== compiledFrom) {
      compiledFrom = sources;
      compiled = compileWebhookSources(compiledFrom ?? {});
    }
    return compiled;
  };
}
