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
  /** Runs a change and its audit entry in one transaction, then reloads the keys here. */
  const change = async <T>(
    context: RequestContext,
    action: string,
    target: Record<string, unknown>,
    work: (
      trx: Parameters<Parameters<typeof db.transaction>[0]>[0],
    ) => Promise<{ value: T; result: Record<string, unknown> }>,
  ): Promise<T> => {
    const value = await db.transaction(async (trx) => {
      const done = await work(trx);
      await insertAuditEntry(trx, {
        actor: context.key?.name ?? '',
        action,
        outcome: 'ok',
        target,
        result: done.result,
        requestId: context.requestId,
      });
      return done.value;
    });
    await apiKeys.refresh().catch(() => undefined);
    return value;
  };
  const refusal = async (
    context: RequestContext,
    action: string,
    target: Record<string, unknown>,
    problem: Problem,
  ) => {
    await insertAuditEntry(db, {
      actor: context.key?.name ?? '',
      action,
      outcome: 'refused',
      target,
      result: { status: problem.status, reason: problem.detail },
      requestId: context.requestId,
    });
    return problem;
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
        try {
          const record = await change(context, 'keys.create', target, async (trx) => {
            const created = await insertApiKey(trx, {
              name: body.name,
              keyHash: material.hash,
              keyPrefix: material.prefix,
              roles: body.roles,
              allowedSources: body.sources ?? ['*'],
              allowedTypes: body.types ?? ['*'],
            });
            return { value: created, result: { prefix: created.keyPrefix } };
          });
          res.status(201).json({ ...keyJson(record), key: material.key });
        } catch (error) {
          if (!(error instanceof ApiKeyNameTakenError)) throw error;
          throw await refusal(
            context,
            'keys.create',
            target,
            new Problem(409, 'key-name-taken', 'Name taken', error.message),
          );
        }
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
        const revoked = await change(context, 'keys.revoke', { name }, async (trx) => {
          const done = await revokeApiKey(trx, name);
          return { value: done, result: { revoked: done } };
        });
        if (!revoked) throw await refusal(context, 'keys.revoke', { name }, noSuchKey(name));
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
          return {
            value: record,
            result: record
              ? { prefix: record.keyPrefix, previous_secret_expires_at: record.previousKeyExpiresAt }
              : { rotated: false },
          };
        });
        if (!rotated) throw await refusal(context, 'keys.rotate', { name }, noSuchKey(name));
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
