import { ConfigReloader, configFileFrom, loadConfig, type OrchestronConfig } from '@orchestron/config';
import { configReloadMetrics, type RootLogger } from '@orchestron/observability';
import type { Registry } from 'prom-client';

/** Keys the relay applies at run time; everything else it reads at start (docs/operations.md). */
export const RELAY_RELOADABLE_KEYS = ['log.level', 'health'] as const;

/** Keys only ingest reads: a change in a shared file is no reason for a relay restart. */
export const RELAY_UNUSED_KEYS = ['api', 'admin', 'sources', 'schemas'] as const;

/**
 * Reloads the relay's configuration on SIGHUP and when its file changes. The relay's loops,
 * publishers and pool are built at start, so only the log level and the readiness thresholds
 * change at run time; other changed keys are reported as needing a restart.
 */
export function startConfigReload(options: {
  argv: readonly string[];
  initial: OrchestronConfig;
  logger: RootLogger;
  registry: Registry;
}): ConfigReloader {
  const file = configFileFrom(options.argv, process.env);
  const reloader = new ConfigReloader({
    initial: options.initial,
    load: () => loadConfig({ argv: options.argv }),
    reloadable: RELAY_RELOADABLE_KEYS,
    unused: RELAY_UNUSED_KEYS,
    apply: (next) => options.logger.setLevel(next.log.level),
    files: file ? [file] : [],
    logger: options.logger,
    metrics: configReloadMetrics(options.registry),
  });
  reloader.start();
  return reloader;
}
