import { UsageError } from './usage-error';
import { parseTimeBound } from './time-bound';

/** The `orchestron replay start` options as parseArgs hands them over. */
export interface ReplayArgs {
  id?: string[];
  source?: string;
  type?: string;
  since?: string;
  until?: string;
  broker?: string;
  destination?: string;
  'routing-key'?: string;
  rate?: string;
  'confirm-count'?: string;
  'dry-run'?: boolean;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function integer(option: string, value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${option}: "${value}" is not a whole number`);
  }
  return Number(value);
}

/**
 * The POST /v1/replays body the options describe, so that the command and the API read one
 * request the same way (parseReplayRequest). Times may be durations back from now (24h).
 */
export function replayRequestBody(args: ReplayArgs, now: Date = new Date()): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  const ids = (args.id ?? []).flatMap(list);
  if (ids.length > 0) filter.ids = ids;
  if (args.source !== undefined) filter.sources = list(args.source);
  if (args.type !== undefined) filter.types = list(args.type);
  if (args.since !== undefined) filter.since = parseTimeBound(args.since, '--since', now).toISOString();
  if (args.until !== undefined) filter.until = parseTimeBound(args.until, '--until', now).toISOString();
  const body: Record<string, unknown> = { filter };
  if (args.broker !== undefined || args.destination !== undefined) {
    if (args.broker === undefined || args.destination === undefined) {
      throw new UsageError(
        '--broker and --destination name a target together (leave both out for the original routes)',
      );
    }
    body.target =
      args.broker === 'kafka'
        ? { broker: 'kafka', topic: args.destination }
        : {
            broker: args.broker,
            exchange: args.destination,
            ...(args['routing-key'] !== undefined ? { routing_key: args['routing-key'] } : {}),
          };
  } else if (args['routing-key'] !== undefined) {
    throw new UsageError('--routing-key goes with --broker rabbitmq --destination EXCHANGE');
  }
  if (args.rate !== undefined) body.rate_limit = integer('--rate', args.rate);
  if (args['confirm-count'] !== undefined) body.confirm_count = integer('--confirm-count', args['confirm-count']);
  if (args['dry-run']) body.dry_run = true;
  return body;
}
