import type { OrchestronConfig } from '@orchestron/config';
import { API_KEY_ROLES, generateApiKey, insertApiKey, listApiKeys, revokeApiKey } from '@orchestron/db';
import { cliDatabase } from '../cli-database';
import type { Output } from '../output';
import { UsageError } from '../usage-error';

export interface CreateKeyOptions {
  name: string;
  roles: string[];
  sources: string[];
  types: string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const KEYS_USAGE = `usage: orchestron keys create --name NAME [--roles ingest] [--sources 'a,b*'] [--types 'order.*'] | list | revoke --name NAME`;

/**
 * `orchestron keys create|list|revoke`. The key is printed once, at creation; only its hash
 * is stored, so a lost key cannot be shown again: revoke it and create another.
 */
export async function keys(
  config: OrchestronConfig,
  action: string | undefined,
  args: { name?: string; roles?: string; sources?: string; types?: string },
  out: Output,
): Promise<void> {
  const db = cliDatabase(config, out);
  try {
    if (action === 'create') {
      if (!args.name || !NAME.test(args.name)) {
        throw new UsageError('keys create needs --name (letters, digits, . _ -; it is also the default event source)');
      }
      const roles = list(args.roles, ['ingest']);
      const unknown = roles.filter((role) => !(API_KEY_ROLES as readonly string[]).includes(role));
      if (unknown.length > 0) {
        throw new UsageError(`--roles: unknown role ${unknown.join(', ')}; roles are ${API_KEY_ROLES.join(', ')}`);
      }
      const material = generateApiKey();
      const record = await insertApiKey(db, {
        name: args.name,
        keyHash: material.hash,
        keyPrefix: material.prefix,
        roles,
        allowedSources: list(args.sources, ['*']),
        allowedTypes: list(args.types, ['*']),
      });
      out.result(
        {
          name: record.name,
          key: material.key,
          roles: record.roles,
          sources: record.allowedSources,
          types: record.allowedTypes,
        },
        () =>
          [
            `created API key "${record.name}" (roles: ${record.roles.join(', ')}; sources: ${record.allowedSources.join(', ')}; types: ${record.allowedTypes.join(', ')})`,
            '',
            `  ${material.key}`,
            '',
            'Store it now: it is not shown again. Send it as "Authorization: Bearer <key>" or "X-API-Key: <key>".',
          ].join('\n'),
      );
    } else if (action === 'list') {
      const records = await listApiKeys(db);
      out.result(
        records.map((r) => ({
          name: r.name,
          prefix: r.keyPrefix,
          roles: r.roles,
          sources: r.allowedSources,
          types: r.allowedTypes,
          createdAt: r.createdAt,
          revokedAt: r.revokedAt,
          lastUsedAt: r.lastUsedAt,
        })),
        () =>
          records.length === 0
            ? 'no API keys'
            : records
                .map(
                  (r) =>
                    `${r.name}\t${r.keyPrefix}…\t${r.revokedAt ? `revoked ${r.revokedAt.toISOString()}` : 'active'}\t` +
                    `roles=${r.roles.join(',')} sources=${r.allowedSources.join(',')} types=${r.allowedTypes.join(',')}\t` +
                    `last used ${r.lastUsedAt?.toISOString() ?? 'never'}`,
                )
                .join('\n'),
      );
    } else if (action === 'revoke') {
      if (!args.name) throw new UsageError('keys revoke needs --name');
      if (!(await revokeApiKey(db, args.name))) throw new UsageError(`no active API key named "${args.name}"`);
      out.info(`revoked API key "${args.name}"; ingest stops accepting it within api.key_refresh_interval`);
    } else {
      throw new UsageError(action ? `unknown keys action "${action}"` : 'keys needs an action');
    }
  } finally {
    await db.destroy();
  }
}

function list(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError('an empty list is not allowed; leave the option out for the default');
  return items;
}
