import { configKeys } from './loader';
import { RELOADABLE_KEYS, reloadableKeysOf, type ReloadingApp } from './reloadable';

function formatName(format: unknown): string {
  if (Array.isArray(format)) return format.map((v) => JSON.stringify(v)).join(' \\| ');
  if (typeof format === 'function') return format.name.toLowerCase();
  const names: Record<string, string> = {
    nat: 'integer ≥ 0',
    port: 'port',
    'duration-ms': 'duration ("5s", "250ms")',
    'byte-size': 'size ("1MB")',
    'heap-threshold': 'share ("90%") or size ("400MB")',
    'listen-address': 'address (":8080")',
    'string-list': 'list (comma-separated in env)',
    'string-lists': 'map of lists (JSON in env)',
    'routing-rules': 'list of rules (JSON in env)',
    'encryption-keys': 'list of {id, key} (JSON in env)',
    'kafka-topics': 'list of topics (JSON in env)',
    'rabbitmq-exchanges': 'list of exchanges (JSON in env)',
    'rabbitmq-queues': 'list of queues (JSON in env)',
    'rabbitmq-bindings': 'list of bindings (JSON in env)',
  };
  return names[String(format)] ?? String(format);
}

/** docs/configuration.md, generated from the schema (`node scripts/gen-config-docs.js`). */
export function configurationReference(): string {
  const rows = configKeys().map((key) => {
    const defaultValue = key.sensitive && key.default ? '(secret)' : JSON.stringify(key.default);
    return `| \`${key.path}\` | \`${key.env}\` | ${formatName(key.format)} | \`${defaultValue}\` | ${key.doc} |`;
  });
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from packages/config/src/schema.ts by `node scripts/gen-config-docs.js`; do not edit. -->',
    '',
    'Sources, later ones winning: defaults, the YAML file (`--config FILE` or `ORCHESTRON_CONFIG`),',
    'environment variables, then `<VAR>_FILE` (the file content, trimmed, is the value of `<VAR>`;',
    'meant for secrets mounted as files). Unknown keys and invalid values stop the process at start,',
    'with every problem listed.',
    '',
    '| key | environment | type | default | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '## Applied at run time',
    '',
    'These keys take effect in a running process on a change of its config file or on SIGHUP',
    '(docs/operations.md, "Hot reload"); every other key is read at start, and a change to it is',
    'logged as needing a restart. `test/e2e/reload-every-key.int.test.ts` changes each of them in a',
    'running process, both ways, and checks the new behaviour.',
    '',
    '| key | reloaded by |',
    '| --- | --- |',
    ...reloadRows(),
    '',
  ].join('\n');
}

function reloadRows(): string[] {
  const apps = Object.keys(RELOADABLE_KEYS) as ReloadingApp[];
  return configKeys()
    .map((key) => [key.path, apps.filter((app) => reloadableKeysOf(app).includes(key.path))] as const)
    .filter(([, reloadedBy]) => reloadedBy.length > 0)
    .map(([path, reloadedBy]) => `| \`${path}\` | ${reloadedBy.join(', ')} |`);
}
