import { readFileSync } from 'node:fs';

/**
 * Secrets are never written in the config file: a setting that holds one takes a reference,
 * `env:VAR_NAME` or `file:/path` (a mounted secret), resolved at load. `literal:<value>` is
 * for tests and local development only.
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function describe(value: unknown): string {
  return Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value;
}

/** A problem with a secret reference's form, or undefined; never quotes the value. */
export function checkSecretReference(reference: unknown): string | undefined {
  if (typeof reference !== 'string')
    return `must be a reference such as env:VAR or file:/path, not ${describe(reference)}`;
  if (reference.startsWith('env:')) {
    return ENV_NAME.test(reference.slice(4)) ? undefined : `${reference} does not name an environment variable`;
  }
  if (reference.startsWith('file:'))
    return reference.length > 5 ? undefined : 'file: needs a path, e.g. file:/run/secrets/x';
  if (reference.startsWith('literal:')) return reference.length > 8 ? undefined : 'literal: needs a value';
  // Not echoed: this may well be a secret pasted into the file.
  return 'must be a reference env:VAR_NAME or file:/path (secrets are not written in the config; literal:<value> is for tests only)';
}

/** Reads one secret reference; a problem (never the value) when it cannot. */
export function readSecret(reference: string, env: NodeJS.ProcessEnv): { value: string } | { problem: string } {
  if (reference.startsWith('literal:')) return { value: reference.slice('literal:'.length) };
  if (reference.startsWith('env:')) {
    const value = env[reference.slice(4)];
    if (value === undefined) return { problem: `${reference}: the environment variable is not set` };
    if (value.trim() === '') return { problem: `${reference}: the environment variable is empty` };
    return { value: value.trim() };
  }
  const file = reference.slice('file:'.length);
  try {
    const value = readFileSync(file, 'utf8').trim();
    return value === '' ? { problem: `${reference}: the file is empty` } : { value };
  } catch (error) {
    return { problem: `${reference}: cannot read the file: ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
  }
}
