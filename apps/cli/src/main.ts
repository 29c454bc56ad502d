#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@orchestron/config';
import { ApiKeyNameTakenError } from '@orchestron/db';
import { migrate, UsageError } from './commands/migrate';
import { keys } from './commands/keys';
import { showOutboxStats } from './commands/outbox-stats';
import { cleanupOutbox } from './commands/outbox-cleanup';
import { dlq } from './commands/dlq';
import { tail } from './commands/tail';
import { replay } from './commands/replay';
import { createOutput } from './output';

const USAGE = `usage: orchestron [--config FILE] [--json] <command>

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

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
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
    },
  });
  const [command, action] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const config = loadConfig({ file: values.config });
  const out = createOutput(values.json === true);
  switch (command) {
    case 'migrate':
      return migrate(config, action ?? 'latest', out, { check: values.check === true });
    case 'outbox':
      if (action === 'cleanup') await cleanupOutbox(config, out);
      else if (action === 'stats') await showOutboxStats(config, out);
      else throw new UsageError('usage: orchestron outbox stats|cleanup');
      return 0;
    case 'dlq':
      await dlq(config, action, positionals.slice(2), values, out);
      return 0;
    case 'replay':
      await replay(config, action, positionals.slice(2), values, out);
      return 0;
    case 'tail':
      return tail(config, action, values);
    case 'keys':
      await keys(config, action, values, out);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError || error instanceof ApiKeyNameTakenError) {
      process.stderr.write(`orchestron: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`orchestron: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
