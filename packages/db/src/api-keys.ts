import type { Executor } from './types';
import { bigintArray, jsonParam } from './types';

/**
 * The roles a key can hold (docs/admin.md): `ingest` writes events; `viewer` reads events,
 * deliveries, dead letters and the backlog; `operator` also replays and discards; `admin`
 * also manages keys. The admin app maps them to permissions.
 */
export const API_KEY_ROLES = ['ingest', 'viewer', 'operator', 'admin'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** An API key as stored: never the key itself, only its hash and a recognisable prefix. */
export interface ApiKeyRecord {
  id: number;
  name: string;
  keyHash: string;
  keyPrefix: string;
  roles: string[];
  allowedSources: string[];
  allowedTypes: string[];
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  /** The secret this key had before its last rotation, valid until previousKeyExpiresAt. */
  previousKeyHash: string | null;
  previousKeyExpiresAt: Date | null;
}

interface ApiKeyRow {
  id: number;
  name: string;
  key_hash: string;
  key_prefix: string;
  roles: string[];
  allowed_sources: string[];
  allowed_types: string[];
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  previous_key_hash: string | null;
  previous_key_expires_at: Date | null;
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    keyHash: row.key_hash,
    keyPrefix: row.key_prefix,
    roles: row.roles,
    allowedSources: row.allowed_sources,
    allowedTypes: row.allowed_types,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
    previousKeyHash: row.previous_key_hash ?? null,
    previousKeyExpiresAt: row.previous_key_expires_at ?? null,
  };
}

export class ApiKeyNameTakenError extends Error {
  override readonly name = 'ApiKeyNameTakenError';
}

export async function insertApiKey(
  db: Executor,
  key: {
    name: string;
    keyHash: string;
    keyPrefix: string;
    roles: string[];
    allowedSources: string[];
    allowedTypes: string[];
  },
): Promise<ApiKeyRecord> {
  try {
    const result = await db.raw<{ rows: ApiKeyRow[] }>(
      `insert into api_keys (name, key_hash, key_prefix, roles, allowed_sources, allowed_types)
       select ?, ?, ?, array(select jsonb_array_elements_text(?::jsonb)), array(select jsonb_array_elements_text(?::jsonb)),
              array(select jsonb_array_elements_text(?::jsonb))
       returning *`,
      [
        key.name,
        key.keyHash,
        key.keyPrefix,
        jsonParam(key.roles),
        jsonParam(key.allowedSources),
        jsonParam(key.allowedTypes),
      ],
    );
    return toRecord(result.rows[0] as ApiKeyRow);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new ApiKeyNameTakenError(`an API key named "${key.name}" exists already`);
    }
    throw error;
  }
}

/** Every key, revoked ones included, oldest first. */
export async function listApiKeys(db: Executor): Promise<ApiKeyRecord[]> {
  const result = await db.raw<{ rows: ApiKeyRow[] }>(`select * from api_keys order by id`);
  return result.rows.map(toRecord);
}

/** The keys that may authenticate now (ingest caches them). */
export async function loadActiveApiKeys(db: Executor): Promise<ApiKeyRecord[]> {
  const result = await db.raw<{ rows: ApiKeyRow[] }>(`select * from api_keys where revoked_at is null`);
  return result.rows.map(toRecord);
}

/** Revokes a key by name; false when no active key has that name. */
export async function revokeApiKey(db: Executor, name: string): Promise<boolean> {
  const result = await db.raw<{ rowCount: number }>(
    `update api_keys set revoked_at = now() where name = ? and revoked_at is null`,
    [name],
  );
  return result.rowCount > 0;
}

/**
 * Gives an active key a new secret. The old one keeps working for `graceMs` (0: not at all),
 * so senders can switch without a gap; a second rotation within the grace period ends the
 * first old secret at once (only one previous secret is kept). Undefined when no active key
 * has that name.
 */
export async function rotateApiKey(
  db: Executor,
  name: string,
  secret: { keyHash: string; keyPrefix: string; graceMs: number },
): Promise<ApiKeyRecord | undefined> {
  const result = await db.raw<{ rows: ApiKeyRow[] }>(
    `update api_keys
     set previous_key_hash = case when ?::float8 > 0 then key_hash end,
         previous_key_expires_at = case when ?::float8 > 0 then now() + make_interval(secs => ?::float8 / 1000) end,
         key_hash = ?, key_prefix = ?
     where name = ? and revoked_at is null
     returning *`,
    [secret.graceMs, secret.graceMs, secret.graceMs, secret.keyHash, secret.keyPrefix, name],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** Records when keys were last used: one statement for everything seen since the last flush. */
export async function touchApiKeys(db: Executor, lastUsed: ReadonlyMap<number, Date>): Promise<void> {
  if (lastUsed.size === 0) return;
  const ids = [...lastUsed.keys()];
  await db.raw(
    `update api_keys k set last_used_at = greatest(coalesce(k.last_used_at, u.at), u.at)
     from (select unnest(?::bigint[]) as id, unnest(array(select jsonb_array_elements_text(?::jsonb)))::timestamptz as at) u
     where k.id = u.id`,
    [bigintArray(ids), jsonParam(ids.map((id) => (lastUsed.get(id) as Date).toISOString()))],
  );
}
