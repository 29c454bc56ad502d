import type { OrchestronConfig } from '@orchestron/config';
import { readTlsOptions, type ReloadableTlsServer } from '@orchestron/http';
import type { LogLevel } from '@orchestron/observability';
import type { AdminSettings } from './app';

/** Keys admin applies at run time; the TLS certificate files are re-read on every reload too. */
export const ADMIN_RELOADABLE_KEYS = ['admin.rate_limit', 'admin.rate_limit_burst', 'log.level', 'health'] as const;

/** Keys admin never reads: a change in a shared file is no reason for an admin restart. */
export const ADMIN_UNUSED_KEYS = [
  'api',
  'relay',
  'sources',
  'schemas',
  'routing',
  'broker',
  'retention',
  'outbox.process_interval',
  'outbox.batch_size',
  'outbox.concurrency',
  'outbox.retry_base_delay',
  'outbox.retry_max_delay',
  'outbox.broker_backoff_max',
  'outbox.stats_interval',
  'outbox.ordering',
  'outbox.dead_letter_policy',
] as const;

export function adminSettings(config: OrchestronConfig): AdminSettings {
  return {
    rateLimit: config.admin.rate_limit,
    rateLimitBurst: config.admin.rate_limit_burst,
    trustProxy: config.admin.trust_proxy,
    requireClientCertificate: config.admin.tls.ca_file !== '',
    keyRotationGraceMs: config.admin.key_rotation_grace,
    maxPageSize: config.admin.max_page_size,
    replay: { defaultRateLimit: config.replay.default_rate_limit, maxRateLimit: config.replay.max_rate_limit },
  };
}

/**
 * Puts a reloaded configuration into effect: the certificate files are read first (a refused
 * configuration leaves the running one whole), then rate limits and the log level are swapped.
 */
export function adminConfigApplier(target: {
  settings: AdminSettings;
  logger: { setLevel(level: LogLevel): void };
  server: ReloadableTlsServer;
}): (next: OrchestronConfig) => void {
  return (next) => {
    const tls = next.admin.tls.cert_file ? readTlsOptions(next.admin.tls) : undefined;
    const fresh = adminSettings(next);
    target.settings.rateLimit = fresh.rateLimit;
    target.settings.rateLimitBurst = fresh.rateLimitBurst;
    target.logger.setLevel(next.log.level);
    if (tls && 'setSecureContext' in target.server) target.server.setSecureContext(tls);
  };
}
