import type { Knex } from 'knex';
import type { OrchestronConfig } from '@orchestron/config';
import { createDatabase } from '@orchestron/db';
import type { Output } from './output';

/**
 * The one connection a CLI command works with. What knex reports on its own (a failed
 * connection attempt, say) goes to `out.warn`, on stderr and never under --json: stdout stays
 * the command's result, and the error itself still ends the command with its exit status.
 */
export function cliDatabase(config: OrchestronConfig, out: Output, applicationName = 'orchestron-cli'): Knex {
  return createDatabase({ ...config.database, max_connections: 1 }, applicationName, {
    warn: (message, meta) => out.warn(`${message}: ${String(meta?.detail ?? '')}`),
    error: (message, meta) => out.warn(`${message}: ${String(meta?.detail ?? '')}`),
  });
}
