import { readFileSync } from 'node:fs';
import convict from 'convict';
import yaml from 'js-yaml';
import { parseByteSize, parseDuration, parseHeapThreshold, parseListenAddress, registerFormats } from './formats';
import { schema, type OrchestronConfig } from './schema';
import {
  checkEncryptionKeys,
  registerEncryptionKeysFormat,
  resolveEncryptionKeys,
  type EncryptionKeyConfig,
} from './encryption-keys';
import { checkTlsFiles } from './tls-files';
import { registerBrokerTopologyFormats, resolveBrokerTopology } from './broker-topology';
import { checkWebhookSources, registerWebhookSourcesFormat, resolveWebhookSources } from './webhook-sources';

/** Every problem found in a configuration, so an operator can fix them all at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export interface LoadOptions {
  /** Command-line arguments; `--config <file>` / `--config=<file>` names the YAML file. */
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** A YAML file path; takes precedence over argv and ORCHESTRON_CONFIG. */
  file?: string;
}

interface Leaf {
  path: string;
  env: string;
  format: unknown;
  sensitive: boolean;
  doc: string;
  default: unknown;
}

/** ORCHESTRON_<PATH>, e.g. api.rate_limit -> ORCHESTRON_API_RATE_LIMIT. */
export function envName(path: string): string {
  return `ORCHESTRON_${path.toUpperCase().replace(/\./g, '_')}`;
}

/** The schema's keys, each with the environment variable that sets it. */
export function configKeys(): Leaf[] {
  const leaves: Leaf[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [key, child] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const entry = child as Record<string, unknown>;
      if ('default' in entry) {
        leaves.push({
          path,
          env: typeof entry.env === 'string' ? entry.env : envName(path),
          format: entry.format,
          sensitive: entry.sensitive === true,
          doc: typeof entry.doc === 'string' ? entry.doc : '',
          default: entry.default,
        });
      } else {
        walk(entry, path);
      }
    }
  };
  walk(schema as unknown as Record<string, unknown>, '');
  return leaves;
}

function schemaWithEnvNames(): unknown {
  const copy = structuredClone(
    // Formats given as constructors (Boolean, String) do not survive structuredClone.
    JSON.parse(JSON.stringify(schema, (_k, v: unknown) => (typeof v === 'function' ? `__fn:${v.name}` : v))),
  ) as Record<string, unknown>;
  const functions: Record<string, unknown> = { Boolean, String, Number };
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [key, child] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const entry = child as Record<string, unknown>;
      if ('default' in entry) {
        entry.env ??= envName(path);
        if (typeof entry.format === 'string' && entry.format.startsWith('__fn:')) {
          entry.format = functions[entry.format.slice(5)];
        }
      } else {
        walk(entry, path);
      }
    }
  };
  walk(copy, '');
  return copy;
}

export function configFileFrom(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--config' || arg === '-c') return argv[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return env.ORCHESTRON_CONFIG || undefined;
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read config file ${file}: ${(error as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = yaml.load(text, { filename: file });
  } catch (error) {
    throw new ConfigError([`config file ${file} is not valid YAML: ${(error as Error).message}`]);
  }
  if (parsed === undefined || parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`config file ${file} must hold a mapping of keys at its top level`]);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Loads the configuration: defaults, then the YAML file, then environment variables, then
 * `<VAR>_FILE` secrets (the file's content, trimmed, is the value of <VAR>). Validates it
 * strictly (unknown keys are errors) and throws a ConfigError listing every problem.
 */
export function loadConfig(options: LoadOptions = {}): OrchestronConfig {
  registerFormats();
  registerWebhookSourcesFormat();
  registerEncryptionKeysFormat();
  registerBrokerTopologyFormats();
  const env = options.env ?? process.env;
  const config = convict<OrchestronConfig>(schemaWithEnvNames() as never, { env, args: [] });

  const file = options.file ?? configFileFrom(options.argv ?? [], env);
  if (file) {
    // Keys that hold a map of their own (sources, schemas.lists): convict's load would walk
    // into them as if they were part of the schema, so each is set whole (before load, so the
    // environment still wins). A map whose entries are all commented out is YAML null: empty.
    const document = readYaml(file);
    for (const path of MAP_KEYS) {
      const value = takePath(document, path);
      if (value !== undefined) config.set(path as never, (value ?? {}) as never);
    }
    config.load(document as never);
  }

  const problems: string[] = [];
  for (const key of configKeys()) {
    const secretFile = env[`${key.env}_FILE`];
    if (!secretFile) continue;
    try {
      const value = readFileSync(secretFile, 'utf8').trim();
      config.set(key.path as never, (key.format === 'port' || key.format === 'nat' ? Number(value) : value) as never);
    } catch (error) {
      problems.push(`${key.env}_FILE: cannot read ${secretFile}: ${(error as Error).message}`);
    }
  }

  try {
    config.validate({ allowed: 'strict' });
  } catch (error) {
    problems.push(...(error as Error).message.split('\n').filter((line) => line.trim() !== ''));
  }
  // Secrets are resolved only for a well-formed `sources`; its shape problems are listed above.
  const rawSources = config.get('sources') as unknown;
  const webhookSources =
    checkWebhookSources(rawSources).length === 0
      ? resolveWebhookSources(rawSources as never, env)
      : { sources: {}, problems: [] };
  problems.push(...webhookSources.problems);
  const rawKeys = config.get('encryption.keys') as unknown;
  const encryptionKeys =
    checkEncryptionKeys(rawKeys).length === 0
      ? resolveEncryptionKeys(rawKeys as EncryptionKeyConfig[], env)
      : { keys: [], problems: [] };
  problems.push(...encryptionKeys.problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const resolved = config.getProperties();
  resolved.sources = webhookSources.sources;
  resolved.encryption.keys = encryptionKeys.keys;
  resolveBrokerTopology(resolved.broker);
  for (const key of configKeys()) {
    if (key.format === 'duration-ms') setPath(resolved, key.path, parseDuration(getPath(resolved, key.path)));
    if (key.format === 'byte-size') setPath(resolved, key.path, parseByteSize(getPath(resolved, key.path)));
    if (key.format === 'heap-threshold') {
      setPath(resolved, key.path, parseHeapThreshold(getPath(resolved, key.path)));
    }
  }
  const crossChecks = checkConsistency(resolved);
  if (crossChecks.length > 0) throw new ConfigError(crossChecks);
  return resolved;
}

function checkConsistency(config: OrchestronConfig): string[] {
  const problems: string[] = [];
  if (config.outbox.batch_size < 1) problems.push('outbox.batch_size: must be at least 1');
  if (config.outbox.concurrency < 1) problems.push('outbox.concurrency: must be at least 1');
  const { active_key_id: activeKey, keys } = config.encryption;
  if (activeKey !== '' && !keys.some((k) => k.id === activeKey)) {
    problems.push(`encryption.active_key_id: no key "${activeKey}" in encryption.keys`);
  }
  if (config.outbox.process_interval < 10) problems.push('outbox.process_interval: must be at least 10ms');
  if (config.api.max_batch_size < 1) problems.push('api.max_batch_size: must be at least 1');
  if (config.api.request_timeout < config.api.headers_timeout) {
    problems.push('api.request_timeout: must be at least api.headers_timeout');
  }
  if (config.api.headers_timeout < 100) problems.push('api.headers_timeout: must be at least 100ms');
  // Postgres's numeric holds at most 16383 digits after the point (and 131072 before it).
  if (config.api.max_number_digits + config.api.max_number_exponent > 16_383) {
    problems.push('api.max_number_digits + api.max_number_exponent: must be at most 16383 (Postgres numeric range)');
  }
  if (config.replay.batch_size < 1) problems.push('replay.batch_size: must be at least 1');
  if (config.replay.default_rate_limit < 1) problems.push('replay.default_rate_limit: must be at least 1');
  if (config.replay.max_rate_limit < config.replay.default_rate_limit) {
    problems.push('replay.max_rate_limit: must be at least replay.default_rate_limit');
  }
  if (config.replay.poll_interval < 10) problems.push('replay.poll_interval: must be at least 10ms');
  if (config.replay.lease < 1000) problems.push('replay.lease: must be at least 1s');
  if (config.replay.max_pending < 1) problems.push('replay.max_pending: must be at least 1');
  if (config.database.max_connections < 1) problems.push('database.max_connections: must be at least 1');
  if (config.broker.type === 'kafka' && config.broker.kafka.brokers.length === 0) {
    problems.push('broker.kafka.brokers: at least one broker is needed when broker.type is kafka');
  }
  const sasl = config.broker.kafka.sasl;
  if (sasl.mechanism !== '' && (sasl.username === '' || sasl.password === '')) {
    problems.push('broker.kafka.sasl: username and password are needed when a mechanism is set');
  }
  if (config.admin.max_page_size < 1) problems.push('admin.max_page_size: must be at least 1');
  const adminPort = parseListenAddress(config.admin.address).port;
  if (adminPort !== 0 && adminPort === parseListenAddress(config.api.address).port) {
    problems.push(`admin.address: port ${adminPort} is api.address's; the admin API never shares a port with ingest`);
  }
  problems.push(...checkTlsFiles(config));
  return problems;
}

/** Config keys whose value is a map with names chosen by the operator. */
const MAP_KEYS = ['sources', 'schemas.lists'];

/** Removes and returns the value at a dotted path of a parsed YAML document. */
function takePath(document: Record<string, unknown>, path: string): unknown {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let node: unknown = document;
  for (const key of keys) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node !== 'object' || node === null || !(last in node)) return undefined;
  const value = (node as Record<string, unknown>)[last];
  delete (node as Record<string, unknown>)[last];
  return value;
}

function getPath(target: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], target);
}

function setPath(target: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  const parent = keys.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], target);
  (parent as Record<string, unknown>)[last] = value;
}

/** The configuration with every sensitive value masked, for logs and `orchestron config`. */
export function redactConfig(config: OrchestronConfig): OrchestronConfig {
  const copy = structuredClone(config);
  for (const key of configKeys()) {
    if (key.sensitive && getPath(copy, key.path)) setPath(copy, key.path, '[redacted]');
  }
  for (const source of Object.values(copy.sources)) source.secrets = source.secrets.map(() => '[redacted]');
  for (const key of copy.encryption.keys) key.key = '[redacted]';
  return copy;
}
