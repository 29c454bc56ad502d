#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from '@orchestron/config';
import { ApiKeyNameTakenError } from '@orchestron/db';
import { migrate, MIGRATE_USAGE } from './commands/migrate';
import { keys, KEYS_USAGE } from './commands/keys';
import { showOutboxStats } from './commands/outbox-stats';
import { cleanupOutbox } from './commands/outbox-cleanup';
import { dlq, DLQ_USAGE } from './commands/dlq';
import { tail, TAIL_USAGE } from './commands/tail';
import { replay, REPLAY_USAGE } from './commands/replay';
import { createOutput } from './output';
import { UsageError } from './usage-error';

const USAGE = `usage: orchestron [--config FILE] [--json] <command>
       orchestron --version | --help

commands:
  migrate [latest|rollback|status]   apply, revert or list database migrations (default: latest)
  migrate status --check             exit 1 while the database lacks a migration this build ships, else 0
  outbox stats                       outbox backlog and dead-letter counts
  outbox cleanup                     one retention pass now: old published outbox rows and settled events
  dlq list|show|replay|discard       the dead-letter queue: filters --id --destination --type --source
                                     --since --until --error --status, --limit, --dry-run (\`dlq\` for help)
  replay start|status|cancel|run     replays of stored events as durable, paced jobs: filters --source
                                     --type --since --until --id, target --broker --destination,
                                     --rate, --dry-run, --confirm-count (\`replay\` for help)
  tail DESTINATION                   print what reaches a topic/exchange, one JSON line per message
                                     (--broker, --max, --timeout, --group, --from-beginning,
                                     --binding-key, --queue; \`tail\` for help)
  keys create --name NAME [--roles ingest] [--sources 'a,b*'] [--types 'order.*']
                                     create an API key (shown once; only its hash is stored)
  keys list                          list API keys (never the keys themselves)
  keys revoke --name NAME            revoke an API key

Configuration comes from defaults, the YAML file (--config or ORCHESTRON_CONFIG) and
environment variables; see docs/configuration.md.`;

const OUTBOX_USAGE = `usage: orchestron outbox stats|cleanup [--json]

  stats     backlog per broker and destination (every broker, served or not), dead-letter count
  cleanup   one retention pass now: old published outbox rows and settled events`;

/** The usage a usage error of each command is shown with. */
const COMMAND_USAGE: Record<string, string> = {
  migrate: MIGRATE_USAGE,
  outbox: OUTBOX_USAGE,
  dlq: DLQ_USAGE,
  replay: REPLAY_USAGE,
  tail: TAIL_USAGE,
  keys: KEYS_USAGE,
};

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'V', default: false },
  check: { type: 'boolean' },
  name: { type: 'string' },
  roles: { type: 'string' },
  sources: { type: 'string' },
  types: { type: 'string' },
  // dlq
  id: { type: 'string', multiple: true },
  destination: { type: 'string' },
  type: { type: 'string' },
  source: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  error: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  'dry-run': { type: 'boolean' },
  all: { type: 'boolean' },
  // replay
  'routing-key': { type: 'string' },
  rate: { type: 'string' },
  'confirm-count': { type: 'string' },
  // tail
  broker: { type: 'string' },
  group: { type: 'string' },
  'from-beginning': { type: 'boolean' },
  'binding-key': { type: 'string' },
  queue: { type: 'string' },
  max: { type: 'string' },
  timeout: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** The version of this command (its package's). */
function version(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    // node:util's own errors (unknown option, missing value) are usage errors like ours.
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_'))
      throw new UsageError((error as Error).message);
    throw error;
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const out = createOutput(values.json === true);
  if (values.version) {
    out.result({ version: version() }, () => `orchestron ${version()}`);
    return 0;
  }
  const [command, action] = positionals;
  if (values.help) {
    process.stdout.write(`${(command && COMMAND_USAGE[command]) ?? USAGE}\n`);
    return 0;
  }
  if (!command) throw new UsageError('no command given');
  if (!(command in COMMAND_USAGE)) throw new UsageError(`unknown command "${command}"`);
  const config = loadConfig({ file: values.config });
  switch (command) {
    case 'migrate':
      return migrate(config, action ?? 'latest', out, { check: values.check === true });
    case 'outbox':
      if (action === 'cleanup') await cleanupOutbox(config, out);
      else if (action === 'stats') await showOutboxStats(config, out);
      else throw new UsageError(action ? `unknown outbox action "${action}"` : 'outbox needs an action');
      return 0;
    case 'dlq':
      await dlq(config, action, positionals.slice(2), values, out);
      return 0;
    case 'replay':
      await replay(config, action, positionals.slice(2), values, out);
      return 0;
    case 'tail':
      return tail(config, action, values);
    default:
      await keys(config, action, values, out);
      return 0;
  }
}

/**
 * Exit statuses: 0 done; 1 the work failed (database unreachable, `migrate status --check`
 * behind, `tail --max` not reached); 2 the command line or the configuration is wrong
 * (usage errors print the command's usage), or a key name is taken.
 */
function fail(argv: string[], error: unknown): number {
  const json = argv.includes('--json');
  const usageError = error instanceof UsageError;
  const code = usageError || error instanceof ConfigError || error instanceof ApiKeyNameTakenError ? 2 : 1;
  const message = (error as Error).message ?? String(error);
  // The command the line was for, even when parsing failed: the first word that is not an option.
  const command = parseArgs({ args: argv, allowPositionals: true, strict: false, options: OPTIONS }).positionals[0];
  const usage = usageError ? ((command && COMMAND_USAGE[command]) ?? USAGE) : undefined;
  if (json) {
    const kind = usageError ? 'usage' : error instanceof ConfigError ? 'config' : 'error';
    process.stderr.write(
      `${JSON.stringify({ error: { kind, message, ...(usage ? { usage } : {}), exitCode: code } })}\n`,
    );
  } else {
    process.stderr.write(`orchestron: ${message}\n${usage ? `\n${usage}\n` : ''}`);
  }
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(fail(process.argv.slice(2), error)),
);
