import { configKeys } from './loader';

/**
 * The keys each app applies at run time (file change or SIGHUP), as prefixes of key paths;
 * every other key it reads is read at start only. One list for the apps' reloaders, the
 * generated reference (docs/configuration.md) and the test that changes each of them in a
 * running process (test/e2e/reload-every-key.int.test.ts), so the three cannot disagree.
 */
export const RELOADABLE_KEYS = {
  ingest: [
    'routing.default_topic',
    'routing.default_exchange',
    'routing.default_routing_key',
    'routing.rules',
    'api.rate_limit',
    'api.rate_limit_burst',
    'api.auth_failure_limit',
    'api.auth_failure_window',
    'schemas',
    'sources',
    'log.level',
    'health',
  ],
  relay: ['log.level', 'health'],
} as const satisfies Record<string, readonly string[]>;

export type ReloadingApp = keyof typeof RELOADABLE_KEYS;

/** Whether `key` is one of `prefixes` or below one of them. */
export function keyCovered(prefixes: readonly string[], key: string): boolean {
  return prefixes.some((prefix) => key === prefix || key.startsWith(`${prefix}.`));
}

/** Every leaf key of the schema an app applies at run time. */
export function reloadableKeysOf(app: ReloadingApp): string[] {
  return configKeys()
    .map((key) => key.path)
    .filter((path) => keyCovered(RELOADABLE_KEYS[app], path));
}
