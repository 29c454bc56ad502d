import convict from 'convict';
import { checkSecretReference, readSecret } from './secret-reference';

/** One payload encryption key: an id (stored with each encrypted payload) and the key. */
export interface EncryptionKeyConfig {
  id: string;
  /** As configured: a secret reference (env:VAR, file:/path); after loading: the key, base64. */
  key: string;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Every problem of `encryption.keys` with its path; never quotes a key. */
export function checkEncryptionKeys(value: unknown): string[] {
  if (!Array.isArray(value)) return ['encryption.keys: must be a list of {id, key}'];
  const problems: string[] = [];
  const ids = new Set<string>();
  value.forEach((entry: unknown, i) => {
    const at = `encryption.keys[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${at}: must be {id, key}`);
      return;
    }
    const { id, key, ...rest } = entry as Record<string, unknown>;
    for (const extra of Object.keys(rest)) problems.push(`${at}.${extra}: unknown key (id, key)`);
    if (typeof id !== 'string' || !KEY_ID.test(id)) problems.push(`${at}.id: 1-64 letters, digits, . _ -`);
    else if (ids.has(id)) problems.push(`${at}.id: "${id}" is used twice`);
    else ids.add(id);
    const keyProblem = checkSecretReference(key);
    if (keyProblem) problems.push(`${at}.key: ${keyProblem}`);
  });
  return problems;
}

/** Resolves each key reference and checks it is 32 bytes of base64 (AES-256). */
export function resolveEncryptionKeys(
  keys: readonly EncryptionKeyConfig[],
  env: NodeJS.ProcessEnv,
): { keys: EncryptionKeyConfig[]; problems: string[] } {
  const problems: string[] = [];
  const resolved: EncryptionKeyConfig[] = [];
  keys.forEach((entry, i) => {
    const secret = readSecret(entry.key, env);
    if ('problem' in secret) {
      problems.push(`encryption.keys[${i}].key: ${secret.problem}`);
      return;
    }
    if (Buffer.from(secret.value, 'base64').length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(secret.value)) {
      problems.push(`encryption.keys[${i}].key: must be 32 random bytes in base64 (openssl rand -base64 32)`);
      return;
    }
    resolved.push({ id: entry.id, key: secret.value });
  });
  return { keys: resolved, problems };
}

export function registerEncryptionKeysFormat(): void {
  convict.addFormat({
    name: 'encryption-keys',
    validate: (value: unknown) => {
      const problems = checkEncryptionKeys(value);
      if (problems.length > 0) throw new Error(problems.join('; '));
    },
    coerce: (value: unknown) => {
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return value;
      }
    },
  });
}
