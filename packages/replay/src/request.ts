import { timeBoundOf } from '@orchestron/config';
import type { ReplayFilter, ReplayTarget } from '@orchestron/db';
import { DESTINATION_NAME } from '@orchestron/routing';

/**
 * A replay as asked for over HTTP (POST /v1/replays) or by `orchestron replay start`, which
 * builds the same body from its options, so both read the same fields the same way.
 */
export interface ReplayRequest {
  filter: ReplayFilter;
  /** Null: each event's original routes. */
  target: ReplayTarget | null;
  /** Events per second; null: replay.default_rate_limit. */
  rateLimit: number | null;
  dryRun: boolean;
  /** The dry-run count an unbounded replay must repeat to start. */
  confirmCount: number | null;
}

/** A request that cannot be run as it stands; `problems` says every reason, each with its field. */
export class ReplayRequestError extends Error {
  override readonly name = 'ReplayRequestError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid replay request: ${problems.join('; ')}`);
  }
}

/** Ids listed in one request at most: a longer list is a filter's job. */
export const MAX_REPLAY_IDS = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID (event and replay ids): anything else names nothing, and is no query. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
const GLOB = /^[\x21-\x7e]{1,200}$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function unknownKeys(at: string, value: Record<string, unknown>, known: readonly string[], problems: string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) problems.push(`${at}${key}: unknown field (${known.join(', ')})`);
  }
}

function globList(at: string, value: unknown, problems: string[]): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > 100) {
    problems.push(`${at}: must be a list of 1 to 100 globs`);
    return undefined;
  }
  const bad = value.filter((g) => typeof g !== 'string' || !GLOB.test(g));
  if (bad.length > 0)
    problems.push(`${at}: ${JSON.stringify(bad[0])} is not a glob (printable, no spaces, 1-200 characters)`);
  return value as string[];
}

/** An ISO time or a duration back from `now` (24h), as the CLI's and the admin API's other time bounds. */
function time(at: string, value: unknown, now: Date, problems: string[]): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = typeof value === 'string' ? timeBoundOf(value, now) : null;
  if (!parsed) {
    problems.push(`${at}: must be an ISO 8601 time (2026-11-26T10:00:00Z) or a duration ago (24h, 7d)`);
    return undefined;
  }
  return parsed;
}

function positiveInteger(at: string, value: unknown, problems: string[], allowZero = false): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    problems.push(`${at}: must be an integer of at least ${allowZero ? 0 : 1}`);
    return null;
  }
  return value;
}

function parseFilter(value: unknown, now: Date, problems: string[]): ReplayFilter {
  if (value === undefined) return {};
  if (!isObject(value)) {
    problems.push('filter: must be an object (sources, types, since, until, ids)');
    return {};
  }
  unknownKeys('filter.', value, ['sources', 'types', 'since', 'until', 'ids'], problems);
  const filter: ReplayFilter = {};
  const sources = globList('filter.sources', value.sources, problems);
  const types = globList('filter.types', value.types, problems);
  const since = time('filter.since', value.since, now, problems);
  const until = time('filter.until', value.until, now, problems);
  if (sources) filter.sources = sources;
  if (types) filter.types = types;
  if (since) filter.since = since;
  if (until) filter.until = until;
  if (since && until && since >= until) problems.push('filter.until: must be later than filter.since');
  if (value.ids !== undefined) {
    const ids = value.ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_REPLAY_IDS) {
      problems.push(`filter.ids: must be a list of 1 to ${MAX_REPLAY_IDS} event ids`);
    } else {
      const bad = ids.find((id) => typeof id !== 'string' || !UUID.test(id));
      if (bad !== undefined) problems.push(`filter.ids: ${JSON.stringify(bad)} is not an event id (a UUID)`);
      else filter.ids = [...new Set((ids as string[]).map((id) => id.toLowerCase()))];
    }
  }
  return filter;
}

function parseTarget(value: unknown, problems: string[]): ReplayTarget | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) {
    problems.push('target: must be an object ({broker: kafka, topic} or {broker: rabbitmq, exchange, routing_key})');
    return null;
  }
  if (value.broker === 'kafka') {
    unknownKeys('target.', value, ['broker', 'topic'], problems);
    if (typeof value.topic !== 'string' || !DESTINATION_NAME.test(value.topic)) {
      problems.push('target.topic: must be a topic name (letters, digits, . _ - : /)');
      return null;
    }
    return { broker: 'kafka', destination: value.topic, routingKey: null };
  }
  if (value.broker === 'rabbitmq') {
    unknownKeys('target.', value, ['broker', 'exchange', 'routing_key'], problems);
    if (typeof value.exchange !== 'string' || !DESTINATION_NAME.test(value.exchange)) {
      problems.push('target.exchange: must be an exchange name (letters, digits, . _ - : /)');
      return null;
    }
    const key = value.routing_key;
    if (key !== undefined && (typeof key !== 'string' || key.length > 255)) {
      problems.push('target.routing_key: must be a string of at most 255 characters');
      return null;
    }
    return { broker: 'rabbitmq', destination: value.exchange, routingKey: key ?? null };
  }
  problems.push('target.broker: must be kafka or rabbitmq');
  return null;
}

/**
 * Reads a replay request body, listing every problem at once (ReplayRequestError). The rate
 * limit is checked against `maxRateLimit` (replay.max_rate_limit).
 */
export function parseReplayRequest(body: unknown, options: { maxRateLimit: number; now?: Date }): ReplayRequest {
  const problems: string[] = [];
  if (!isObject(body)) throw new ReplayRequestError(['the body must be a JSON object']);
  unknownKeys('', body, ['filter', 'target', 'rate_limit', 'dry_run', 'confirm_count'], problems);
  const filter = parseFilter(body.filter, options.now ?? new Date(), problems);
  const target = parseTarget(body.target, problems);
  const rateLimit = positiveInteger('rate_limit', body.rate_limit, problems);
  if (rateLimit !== null && rateLimit > options.maxRateLimit) {
    problems.push(`rate_limit: at most ${options.maxRateLimit} events per second (replay.max_rate_limit)`);
  }
  if (body.dry_run !== undefined && typeof body.dry_run !== 'boolean') problems.push('dry_run: must be true or false');
  const confirmCount = positiveInteger('confirm_count', body.confirm_count, problems, true);
  if (problems.length > 0) throw new ReplayRequestError(problems);
  return { filter, target, rateLimit, dryRun: body.dry_run === true, confirmCount };
}

/**
 * A replay is bounded when it names its events (ids) or where in time they start (since).
 * `until` alone still reaches back to the oldest stored event, so it does not bound one.
 */
export function isBounded(filter: ReplayFilter): boolean {
  return filter.ids !== undefined || filter.since !== undefined;
}
