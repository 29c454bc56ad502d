import { checkSecretReference, readSecret } from './secret-reference';
import convict from 'convict';
import { parseDuration } from './formats';

/** Signature schemes of `POST /webhooks/:source`; docs/webhooks.md describes each. */
export const WEBHOOK_SCHEMES = ['standard-webhooks', 'github', 'stripe', 'hmac-sha256', 'none'] as const;
export type WebhookScheme = (typeof WEBHOOK_SCHEMES)[number];

/** Where a value of a delivery is read: a request header, or a JSON pointer into the body. */
export type ValueLocation = { header: string } | { pointer: string };

/** One webhook source after loading: defaults applied, durations in ms, secrets resolved. */
export interface WebhookSourceConfig {
  scheme: WebhookScheme;
  /** The secret values (never references); two while a secret is being rotated; none for `none`. */
  secrets: string[];
  type_from: ValueLocation;
  /** Where the delivery id (the idempotency key) is; null: every delivery is a new event. */
  id_from: ValueLocation | null;
  /** Largest allowed distance of a signed timestamp from now, in ms (schemes with a timestamp). */
  tolerance: number;
  unknown_types: 'reject' | 'accept';
  static_fields: Record<string, string>;
  /** The signature header of `hmac-sha256` sources (and the one GitHub uses). */
  signature: { header: string; encoding: 'hex' | 'base64'; prefix: string } | null;
}

export type WebhookSourcesConfig = Record<string, WebhookSourceConfig>;

const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const JSON_POINTER = /^(\/([^~/]|~[01])*)+$/;
const FIELD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Header names acceptEvents sets itself; a static field may not shadow them. */
const RESERVED_FIELDS = new Set([
  'content-type',
  'request-id',
  'time',
  'traceparent',
  'tracestate',
  'api-key',
  'payload-encoding',
]);
/** Stored `ce-<name>` headers are CloudEvents attributes, published as such (docs/architecture.md). */
const RESERVED_PREFIXES = ['ce-', 'ce_'];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const SETTINGS = [
  'scheme',
  'secrets',
  'type_from',
  'id_from',
  'tolerance',
  'unknown_types',
  'static_fields',
  'signature',
];
const DEFAULT_TOLERANCE = '5m';
const TIMESTAMPED: ReadonlySet<WebhookScheme> = new Set(['standard-webhooks', 'stripe']);

const DEFAULTS: Record<WebhookScheme, { type_from: ValueLocation; id_from: ValueLocation | null }> = {
  'standard-webhooks': { type_from: { pointer: '/type' }, id_from: { header: 'webhook-id' } },
  github: { type_from: { header: 'X-GitHub-Event' }, id_from: { header: 'X-GitHub-Delivery' } },
  stripe: { type_from: { pointer: '/type' }, id_from: { pointer: '/id' } },
  'hmac-sha256': { type_from: { pointer: '/type' }, id_from: null },
  none: { type_from: { pointer: '/type' }, id_from: null },
};

const GITHUB_SIGNATURE = { header: 'X-Hub-Signature-256', encoding: 'hex', prefix: 'sha256=' } as const;

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Every problem of a `sources` value, each prefixed with its path (`sources.github.scheme:
 * ...`). Checks the shape only; secret references are resolved by resolveWebhookSources.
 * Never quotes a secret reference's value (a `literal:` one is a secret).
 */
export function checkWebhookSources(value: unknown): string[] {
  if (typeof value === 'string') {
    // Not quoted: an unparsable environment value may hold secrets.
    return ['sources: must be a mapping of source name to settings (in the environment: a JSON object)'];
  }
  if (!isMapping(value)) return [`sources: must be a mapping of source name to settings, not ${describe(value)}`];
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(value)) {
    const at = `sources.${name}`;
    if (!SOURCE_NAME.test(name)) {
      problems.push(`${at}: a source name is 1-100 letters, digits, ".", "_" or "-" (it is the URL /webhooks/<name>)`);
    }
    if (!isMapping(entry)) {
      problems.push(`${at}: must be a mapping of settings, not ${describe(entry)}`);
      continue;
    }
    problems.push(...checkSource(at, entry));
  }
  return problems;
}

function checkSource(at: string, entry: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(entry)) {
    if (!SETTINGS.includes(key)) problems.push(`${at}.${key}: unknown setting (known: ${SETTINGS.join(', ')})`);
  }
  const scheme = entry.scheme as WebhookScheme;
  if (entry.scheme === undefined) {
    problems.push(`${at}.scheme: is required, one of ${WEBHOOK_SCHEMES.join(', ')}`);
  } else if (!WEBHOOK_SCHEMES.includes(scheme)) {
    problems.push(`${at}.scheme: must be one of ${WEBHOOK_SCHEMES.join(', ')}, not ${describe(entry.scheme)}`);
  }

  if (scheme === 'none') {
    if (entry.secrets !== undefined && !(Array.isArray(entry.secrets) && entry.secrets.length === 0)) {
      problems.push(`${at}.secrets: scheme none verifies nothing and takes no secrets`);
    }
  } else if (entry.secrets === undefined) {
    problems.push(`${at}.secrets: is required: a list of 1 or 2 references (env:VAR, file:/path)`);
  } else if (!Array.isArray(entry.secrets) || entry.secrets.length < 1 || entry.secrets.length > 2) {
    problems.push(
      `${at}.secrets: must be a list of 1 or 2 references (two while rotating), not ${describeList(entry.secrets)}`,
    );
  } else {
    entry.secrets.forEach((reference, i) => {
      const problem = checkSecretReference(reference);
      if (problem) problems.push(`${at}.secrets[${i}]: ${problem}`);
    });
  }

  for (const key of ['type_from', 'id_from'] as const) {
    if (entry[key] !== undefined) problems.push(...checkLocation(`${at}.${key}`, entry[key]));
  }

  if (entry.tolerance !== undefined) {
    if (WEBHOOK_SCHEMES.includes(scheme) && !TIMESTAMPED.has(scheme)) {
      problems.push(`${at}.tolerance: scheme ${String(entry.scheme)} signs no timestamp; remove tolerance`);
    } else {
      try {
        if (parseDuration(entry.tolerance) <= 0) problems.push(`${at}.tolerance: must be longer than 0`);
      } catch (error) {
        problems.push(`${at}.tolerance: ${(error as Error).message}`);
      }
    }
  }

  if (entry.unknown_types !== undefined && entry.unknown_types !== 'reject' && entry.unknown_types !== 'accept') {
    problems.push(`${at}.unknown_types: must be one of reject, accept, not ${describe(entry.unknown_types)}`);
  }

  if (entry.static_fields !== undefined)
    problems.push(...checkStaticFields(`${at}.static_fields`, entry.static_fields));

  if (scheme === 'hmac-sha256') {
    if (entry.signature === undefined) {
      problems.push(`${at}.signature: is required for scheme hmac-sha256: {header, encoding, prefix}`);
    } else {
      problems.push(...checkSignature(`${at}.signature`, entry.signature));
    }
  } else if (entry.signature !== undefined && WEBHOOK_SCHEMES.includes(scheme)) {
    problems.push(`${at}.signature: only scheme hmac-sha256 takes signature settings`);
  }
  return problems;
}

function describeList(value: unknown): string {
  return Array.isArray(value) ? `a list of ${value.length}` : describe(value);
}

function checkLocation(at: string, value: unknown): string[] {
  if (!isMapping(value))
    return [`${at}: must be {header: <name>} or {pointer: </json/pointer>}, not ${describe(value)}`];
  const keys = Object.keys(value);
  if (keys.length !== 1 || (keys[0] !== 'header' && keys[0] !== 'pointer')) {
    return [`${at}: must have exactly one of header, pointer (has ${keys.join(', ') || 'none'})`];
  }
  if (value.header !== undefined) {
    return typeof value.header === 'string' && HEADER_NAME.test(value.header)
      ? []
      : [`${at}.header: must be an HTTP header name, not ${describe(value.header)}`];
  }
  return typeof value.pointer === 'string' && JSON_POINTER.test(value.pointer)
    ? []
    : [`${at}.pointer: must be a JSON pointer into the body such as /type, not ${describe(value.pointer)}`];
}

function checkStaticFields(at: string, value: unknown): string[] {
  if (!isMapping(value)) return [`${at}: must be a mapping of field name to string, not ${describe(value)}`];
  const problems: string[] = [];
  for (const [field, fieldValue] of Object.entries(value)) {
    if (!FIELD_NAME.test(field)) {
      problems.push(`${at}.${field}: a field name is 1-64 letters, digits, ".", "_" or "-"`);
    } else if (
      RESERVED_FIELDS.has(field.toLowerCase()) ||
      RESERVED_PREFIXES.some((prefix) => field.toLowerCase().startsWith(prefix))
    ) {
      problems.push(`${at}.${field}: is set by ingest itself; choose another name`);
    }
    if (typeof fieldValue !== 'string') {
      problems.push(`${at}.${field}: must be a string (quote it in YAML), not ${describe(fieldValue)}`);
    } else if (fieldValue.length > 1024) {
      problems.push(`${at}.${field}: must be at most 1024 characters`);
    }
  }
  return problems;
}

function checkSignature(at: string, value: unknown): string[] {
  if (!isMapping(value)) return [`${at}: must be a mapping {header, encoding, prefix}, not ${describe(value)}`];
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (!['header', 'encoding', 'prefix'].includes(key)) {
      problems.push(`${at}.${key}: unknown setting (known: header, encoding, prefix)`);
    }
  }
  if (typeof value.header !== 'string' || !HEADER_NAME.test(value.header)) {
    problems.push(`${at}.header: is required, an HTTP header name, not ${describe(value.header)}`);
  }
  if (value.encoding !== undefined && value.encoding !== 'hex' && value.encoding !== 'base64') {
    problems.push(`${at}.encoding: must be one of hex, base64, not ${describe(value.encoding)}`);
  }
  if (value.prefix !== undefined && (typeof value.prefix !== 'string' || value.prefix.length > 32)) {
    problems.push(`${at}.prefix: must be a string of at most 32 characters, such as "sha256="`);
  }
  return problems;
}

/** A problem with a resolved secret's form for its scheme, without quoting it. */
function checkSecretValue(scheme: WebhookScheme, value: string): string | undefined {
  if (scheme !== 'standard-webhooks') return undefined;
  const encoded = value.startsWith('whsec_') ? value.slice('whsec_'.length) : value;
  return BASE64.test(encoded) ? undefined : 'is not a Standard Webhooks secret (whsec_<base64>)';
}

/**
 * Applies the defaults of each source's scheme, converts `tolerance` to milliseconds and
 * resolves every secret reference (`env:VAR`, `file:/path`, `literal:value`). Expects a value
 * checkWebhookSources accepted; returns every unresolvable secret as a problem.
 */
export function resolveWebhookSources(
  value: Record<string, Record<string, unknown>>,
  env: NodeJS.ProcessEnv,
): { sources: WebhookSourcesConfig; problems: string[] } {
  const problems: string[] = [];
  const sources: WebhookSourcesConfig = {};
  for (const [name, entry] of Object.entries(value)) {
    const scheme = entry.scheme as WebhookScheme;
    const secrets: string[] = [];
    ((entry.secrets as string[] | undefined) ?? []).forEach((reference, i) => {
      const resolved = readSecret(reference, env);
      if ('problem' in resolved) {
        problems.push(`sources.${name}.secrets[${i}]: ${resolved.problem}`);
        return;
      }
      const problem = checkSecretValue(scheme, resolved.value);
      if (problem)
        problems.push(`sources.${name}.secrets[${i}]: the secret from ${describeReference(reference)} ${problem}`);
      secrets.push(resolved.value);
    });
    const signature = entry.signature as { header: string; encoding?: 'hex' | 'base64'; prefix?: string } | undefined;
    sources[name] = {
      scheme,
      secrets,
      type_from: (entry.type_from as ValueLocation | undefined) ?? DEFAULTS[scheme].type_from,
      id_from: (entry.id_from as ValueLocation | undefined) ?? DEFAULTS[scheme].id_from,
      tolerance: parseDuration(entry.tolerance ?? DEFAULT_TOLERANCE),
      unknown_types: (entry.unknown_types as 'reject' | 'accept' | undefined) ?? 'reject',
      static_fields: { ...((entry.static_fields as Record<string, string> | undefined) ?? {}) },
      signature:
        scheme === 'github'
          ? { ...GITHUB_SIGNATURE }
          : signature
            ? { header: signature.header, encoding: signature.encoding ?? 'hex', prefix: signature.prefix ?? '' }
            : null,
    };
  }
  return { sources, problems };
}

function describeReference(reference: string): string {
  return reference.startsWith('literal:') ? 'literal:' : reference;
}

/** Coerces the environment form (JSON) of `sources`; anything unparsable is left to validation. */
export function coerceWebhookSources(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/**
 * An error whose lines each already name their full path: convict would otherwise prefix
 * the first with `sources: ` and append the whole value (secret references included).
 */
export class WebhookSourcesError extends Error {
  get fullName(): undefined {
    return undefined;
  }
  set fullName(_ignored: unknown) {}
  get value(): undefined {
    return undefined;
  }
  set value(_ignored: unknown) {}
}

let registered = false;

/** Adds the `webhook-sources` format to convict; called once before a schema is built. */
export function registerWebhookSourcesFormat(): void {
  if (registered) return;
  registered = true;
  convict.addFormat({
    name: 'webhook-sources',
    validate: (value: unknown) => {
      const problems = checkWebhookSources(value);
      if (problems.length > 0) throw new WebhookSourcesError(problems.join('\n'));
    },
    coerce: coerceWebhookSources,
  });
}
