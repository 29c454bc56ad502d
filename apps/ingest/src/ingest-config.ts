import path from 'node:path';
import type { OrchestronConfig } from '@orchestron/config';
import type { LogLevel } from '@orchestron/observability';
import { SchemaRegistry } from '@orchestron/schemas';
import type { IngestDependencies, IngestSettings } from './app';
import { readTlsOptions, type ReloadableTlsServer } from './server';
import { compileWebhookSources } from './webhooks/sources';

/**
 * Keys ingest applies at run time (docs/operations.md, "Hot reload"); the others need a restart.
 * The TLS certificate files are re-read on every reload as well (same paths, new content).
 */
export const INGEST_RELOADABLE_KEYS = [
  'routing',
  'api.rate_limit',
  'api.rate_limit_burst',
  'api.auth_failure_limit',
  'api.auth_failure_window',
  'schemas',
  'sources',
  'log.level',
  'health',
] as const;

/** Keys only the relay reads: a change in a shared file is no reason for an ingest restart. */
export const INGEST_UNUSED_KEYS = [
  'relay',
  'broker.rabbitmq',
  'broker.kafka',
  'outbox.process_interval',
  'outbox.batch_size',
  'outbox.concurrency',
  'outbox.retry_base_delay',
  'outbox.retry_max_delay',
  'outbox.broker_backoff_max',
] as const;

export function loadSchemas(config: OrchestronConfig): SchemaRegistry {
  return SchemaRegistry.loadFromDirectory(path.resolve(config.schemas.directory), {
    lists: config.schemas.lists,
    maxClockSkewMs: config.schemas.max_clock_skew,
  });
}

export function ingestSettings(config: OrchestronConfig): IngestSettings {
  return {
    maxPayloadBytes: config.api.max_payload_size,
    maxBatchSize: config.api.max_batch_size,
    numberLimits: { maxDigits: config.api.max_number_digits, maxExponent: config.api.max_number_exponent },
    maxMessageBytes: { ...config.api.max_message_size },
    authFailureLimit: config.api.auth_failure_limit,
    authFailureWindowMs: config.api.auth_failure_window,
    rateLimit: config.api.rate_limit,
    rateLimitBurst: config.api.rate_limit_burst,
    trustProxy: config.api.trust_proxy,
    requireApiKey: config.api.require_api_key,
    requireClientCertificate: config.api.tls.ca_file !== '',
    maxClockSkewMs: config.schemas.max_clock_skew,
    acceptUnknownTypesFrom: config.schemas.accept_unknown_types_from,
    webhookSources: config.sources,
    routing: { broker: config.broker.type, ...config.routing },
  };
}

/**
 * Puts a reloaded configuration into effect in a running ingest. Everything that can fail
 * (schemas, webhook verifiers, certificate files) is prepared first; only then is anything
 * swapped, so a refused configuration leaves the running one whole. Requests read these per
 * request: the next one sees the new values, one in flight keeps what it started with.
 */
export function configApplier(target: {
  deps: IngestDependencies;
  logger: { setLevel(level: LogLevel): void };
  server: ReloadableTlsServer;
}): (next: OrchestronConfig) => void {
  return (next) => {
    const schemas = loadSchemas(next);
    compileWebhookSources(next.sources);
    const tls = next.api.tls.cert_file ? readTlsOptions(next.api.tls) : undefined;

    const fresh = ingestSettings(next);
    const { settings } = target.deps;
    target.deps.schemas = schemas;
    settings.routing = fresh.routing;
    settings.rateLimit = fresh.rateLimit;
    settings.rateLimitBurst = fresh.rateLimitBurst;
    settings.authFailureLimit = fresh.authFailureLimit;
    settings.authFailureWindowMs = fresh.authFailureWindowMs;
    settings.maxClockSkewMs = fresh.maxClockSkewMs;
    settings.webhookSources = fresh.webhookSources;
    target.logger.setLevel(next.log.level);
    if (tls && 'setSecureContext' in target.server) target.server.setSecureContext(tls);
  };
}
