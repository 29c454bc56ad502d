import type { DeadLetterFilter, DeadLetterStatus } from '@orchestron/db';
import { UsageError } from './usage-error';
import { parseTimeBound } from './time-bound';

/** The `orchestron dlq` options as parseArgs hands them over. */
export interface DeadLetterArgs {
  id?: string[];
  destination?: string;
  type?: string;
  source?: string;
  since?: string;
  until?: string;
  error?: string;
  status?: string;
  limit?: string;
  'dry-run'?: boolean;
  all?: boolean;
}

const STATUSES: readonly DeadLetterStatus[] = ['dead', 'replayed', 'discarded'];

/** The filter the options describe; `--status` defaults to dead. */
export function deadLetterFilter(args: DeadLetterArgs, extraIds: readonly string[] = []): DeadLetterFilter {
  const filter: DeadLetterFilter = { status: 'dead' };
  const ids = [...(args.id ?? []), ...extraIds].flatMap((value) => value.split(',')).map((s) => s.trim());
  if (ids.length > 0) {
    filter.ids = ids.filter(Boolean).map((id) => {
      if (!/^\d+$/.test(id) || !Number.isSafeInteger(Number(id))) {
        throw new UsageError(`--id: "${id}" is not a dead-letter id (a positive integer)`);
      }
      return Number(id);
    });
  }
  if (args.destination !== undefined) filter.destination = nonEmpty('--destination', args.destination);
  if (args.type !== undefined) filter.type = nonEmpty('--type', args.type);
  if (args.source !== undefined) filter.source = nonEmpty('--source', args.source);
  if (args.error !== undefined) filter.errorContains = nonEmpty('--error', args.error);
  const now = new Date();
  if (args.since !== undefined) filter.since = parseTimeBound(args.since, '--since', now);
  if (args.until !== undefined) filter.until = parseTimeBound(args.until, '--until', now);
  if (args.status !== undefined) {
    if (!STATUSES.includes(args.status as DeadLetterStatus)) {
      throw new UsageError(`--status: "${args.status}" is not one of ${STATUSES.join(', ')}`);
    }
    filter.status = args.status as DeadLetterStatus;
  }
  return filter;
}

/** `--limit N`: a positive integer, or `fallback` when absent. */
export function limitOf(args: DeadLetterArgs, fallback: number): number {
  if (args.limit === undefined) return fallback;
  if (!/^\d+$/.test(args.limit) || Number(args.limit) < 1 || !Number.isSafeInteger(Number(args.limit))) {
    throw new UsageError(`--limit: "${args.limit}" is not a positive integer`);
  }
  return Number(args.limit);
}

function nonEmpty(option: string, value: string): string {
  if (value === '') throw new UsageError(`${option} needs a value`);
  return value;
}
