import {
  ApiKeyNameTakenError,
  generateApiKey,
  insertApiKey,
  insertAuditEntry,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
  type ApiKeyRecord,
} from '@orchestron/db';
import type { Knex } from 'knex';
import { Problem } from '@orchestron/http';
import type { AdminRoute, RequestContext } from '../access/route-table';
import { ROLES } from '../access/roles';
import { json, pathParameter, problems, ref } from '../openapi/schema-helpers';
import type { RouteDependencies } from './index';

/** Key names: also the default event source of what the key sends. */
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';
const patterns = { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 100 };
const nameParameter = pathParameter('name', 'The key’s name.');

/**
 * API keys: list, create (the secret is in the answer, once), revoke, rotate. Each change
 * and its audit entry commit together; this replica reloads its keys at once, the others
 * (and ingest) within api.key_refresh_interval.
 */
export function keyRoutes({ db, apiKeys, settings }: RouteDependencies): AdminRoute[] {
  /**
   * Runs a change and its audit entry in one transaction, then reloads the keys here. A
   * Problem thrown by `work` rolls the change back and is audited as a refusal instead.
   */
  const change = async <T>(
    context: RequestContext,
    action: string,
    target: Record<string, unknown>,
    work: (trx: Knex.Transaction) => Promise<{ value: T; result: Record<string, unknown> }>,
  ): Promise<T> => {
    const entry = { actor: context.key?.name ?? '', action, target, requestId: context.requestId };
    try {
      const value = await db.transaction(async (trx) => {
        const done = await work(trx);
        await insertAuditEntry(trx, { ...entry, outcome: 'ok', result: done.result });
        return done.value;
      });
      await apiKeys.refresh().catch(() => undefined);
      return value;
    } catch (error) {
      if (error instanceof Problem) {
        await insertAuditEntry(db, {
          ...entry,
          outcome: 'refused',
          result: { status: error.status, reason: error.detail },
        });
      }
      throw error;
    }
  };
  const noSuchKey = (name: string) => new Problem(404, 'not-found', 'Not found', `no active API key named "${name}"`);

  return [
    {
      method: 'get',
      path: '/v1/keys',
      permission: 'keys.read',
      operation: {
        operationId: 'listKeys',
        summary: 'Every API key, revoked ones included (never a secret)',
        tags: ['keys'],
        responses: { '200': json('The keys, oldest first.', ref('ApiKeyList')), ...problems(401, 403, 429, 503) },
      },
      async handle(_req, res) {
        res.json({ items: (await listApiKeys(db)).map(keyJson) });
      },
    },
    {
      method: 'post',
      path: '/v1/keys',
      permission: 'keys.write',
      auditAction: 'keys.create',
      operation: {
        operationId: 'createKey',
        summary: 'Create an API key; its secret is in this answer and nowhere else',
        tags: ['keys'],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  name: { type: 'string', pattern: NAME_PATTERN },
                  roles: {
                    type: 'array',
                    items: { type: 'string', enum: [...ROLES] },
                    minItems: 1,
                    uniqueItems: true,
                  },
                  sources: { ...patterns, description: 'Source globs the key may write and see; default ["*"].' },
                  types: { ...patterns, description: 'Event type globs the key may write and see; default ["*"].' },
                },
                required: ['name', 'roles'],
                additionalProperties: false,
              },
            },
          },
        },
        responses: {
          '201': json('The key, with its secret.', ref('ApiKeyWithSecret')),
          ...problems(400, 401, 403, 409, 413, 415, 429, 503),
        },
      },
      async handle(req, res, context) {
        const body = req.body as { name: string; roles: string[]; sources?: string[]; types?: string[] };
        const target = { name: body.name, roles: body.roles, sources: body.sources, types: body.types };
        const material = generateApiKey();
        const record = await change(context, 'keys.create', target, async (trx) => {
          try {
            const created = await insertApiKey(trx, {
              name: body.name,
              keyHash: material.hash,
              keyPrefix: material.prefix,
              roles: body.roles,
              allowedSources: body.sources ?? ['*'],
              allowedTypes: body.types ?? ['*'],
            });
            return { value: created, result: { prefix: created.keyPrefix } };
          } catch (error) {
            if (!(error instanceof ApiKeyNameTakenError)) throw error;
            throw new Problem(409, 'key-name-taken', 'Name taken', error.message);
          }
        });
        res.status(201).json({ ...keyJson(record), key: material.key });
      },
    },
    {
      method: 'post',
      path: '/v1/keys/{name}/revoke',
      permission: 'keys.write',
      auditAction: 'keys.revoke',
      operation: {
        operationId: 'revokeKey',
        summary: 'Revoke a key: it stops working at once here, within api.key_refresh_interval elsewhere',
        tags: ['keys'],
        parameters: [nameParameter],
        responses: { '200': json('The revoked key.', ref('ApiKey')), ...problems(401, 403, 404, 429, 503) },
      },
      async handle(req, res, context) {
        const name = String(req.params.name);
        await change(context, 'keys.revoke', { name }, async (trx) => {
          if (!(await revokeApiKey(trx, name))) throw noSuchKey(name);
          return { value: true, result: { revoked: true } };
        });
        const record = (await listApiKeys(db)).find((k) => k.name === name) as ApiKeyRecord;
        res.json(keyJson(record));
      },
    },
    {
      method: 'post',
      path: '/v1/keys/{name}/rotate',
      permission: 'keys.write',
      auditAction: 'keys.rotate',
      operation: {
        operationId: 'rotateKey',
        summary: 'Give a key a new secret; the old one keeps working for a grace period',
        description:
          'The grace period is admin.key_rotation_grace (default 24h) unless `grace_seconds` asks for less; ' +
          '0 ends the old secret at once. Only the latest old secret is kept.',
        tags: ['keys'],
        parameters: [nameParameter],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { grace_seconds: { type: 'integer', minimum: 0 } },
                additionalProperties: false,
              },
            },
          },
        },
        responses: {
          '200': json('The key, with its new secret.', ref('ApiKeyWithSecret')),
          ...problems(400, 401, 403, 404, 413, 415, 429, 503),
        },
      },
      async handle(req, res, context) {
        const name = String(req.params.name);
        const asked = (req.body as { grace_seconds?: number }).grace_seconds;
        const graceMs = Math.min(asked === undefined ? Infinity : asked * 1000, settings.keyRotationGraceMs);
        const material = generateApiKey();
        const rotated = await change(context, 'keys.rotate', { name, grace_ms: graceMs }, async (trx) => {
          const record = await rotateApiKey(trx, name, { keyHash: material.hash, keyPrefix: material.prefix, graceMs });
          if (!record) throw noSuchKey(name);
          return {
            value: record,
            result: { prefix: record.keyPrefix, previous_secret_expires_at: record.previousKeyExpiresAt },
          };
        });
        res.json({ ...keyJson(rotated), key: material.key });
      },
    },
  ];
}

function keyJson(k: ApiKeyRecord): Record<string, unknown> {
  const previousValid = k.previousKeyExpiresAt && k.previousKeyExpiresAt.getTime() > Date.now();
  return {
    name: k.name,
    prefix: k.keyPrefix,
    roles: k.roles,
    sources: k.allowedSources,
    types: k.allowedTypes,
    created_at: k.createdAt,
    revoked_at: k.revokedAt,
    last_used_at: k.lastUsedAt,
    previous_secret_expires_at: previousValid && !k.revokedAt ? k.previousKeyExpiresAt : null,
  };
}
