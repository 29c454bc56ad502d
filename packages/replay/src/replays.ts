import type { Knex } from 'knex';
import {
  cancelReplay,
  countReplayEvents,
  insertAuditEntry,
  insertReplay,
  isUnrestricted,
  listReplays,
  uuidv7,
  type ReplayCount,
  type ReplayFilter,
  type ReplayRecord,
  type EventScope,
  type ReplayStatus,
} from '@orchestron/db';
import { isBounded, isUuid, type ReplayRequest } from './request';

/** Who asks: the API key's name (or the CLI's user) and the key's source/type scopes. */
export interface ReplayActor {
  name: string;
  scope: EventScope;
}

/**
 * An unbounded replay (no ids, no since) whose confirm_count is not the count it would take
 * now; also a bounded one given a confirm_count that differs. Nothing was started.
 */
export class ReplayConfirmationError extends Error {
  override readonly name = 'ReplayConfirmationError';
  constructor(
    readonly count: number,
    readonly until: Date,
    readonly confirmCount: number | null,
  ) {
    super(
      confirmCount === null
        ? `a replay without ids or since would take every stored event (${count} up to ${until.toISOString()}); ` +
            `repeat the request with confirm_count ${count}, or bound it`
        : `confirm_count ${confirmCount} is not the ${count} events this replay would take (up to ${until.toISOString()})`,
    );
  }
}

/** No replay with that id, or none the actor may see. */
export class ReplayNotFoundError extends Error {
  override readonly name = 'ReplayNotFoundError';
  constructor(readonly id: string) {
    super(`no replay ${id}`);
  }
}

/** A cancel of a replay that has already ended. */
export class ReplayFinishedError extends Error {
  override readonly name = 'ReplayFinishedError';
  constructor(readonly replay: ReplayRecord) {
    super(`replay ${replay.id} has already ended (${replay.status})`);
  }
}

export interface ReplayDryRun {
  dryRun: true;
  /** The filter as it would run: `until` fixed to the time of the request when none was given. */
  filter: ReplayFilter;
  count: ReplayCount;
}

export interface ReplayStarted {
  dryRun: false;
  replay: ReplayRecord;
}

/**
 * Dry-runs or starts a replay. Without `until` the replay ends at the moment it is asked for,
 * so it never chases events that arrive while it runs, and its dry-run count holds. A replay
 * is stored queued, with its audit_log entry in the same transaction; a runner takes it from there.
 */
export async function requestReplay(
  db: Knex,
  request: ReplayRequest,
  actor: ReplayActor,
  options: { defaultRateLimit: number; requestId?: string; now?: Date },
): Promise<ReplayDryRun | ReplayStarted> {
  const filter: ReplayFilter = { ...request.filter, until: request.filter.until ?? options.now ?? new Date() };
  const count = await countReplayEvents(db, filter, actor.scope);
  if (request.dryRun) return { dryRun: true, filter, count };
  const confirmationNeeded = !isBounded(filter) || request.confirmCount !== null;
  if (confirmationNeeded && request.confirmCount !== count.events) {
    throw new ReplayConfirmationError(count.events, filter.until as Date, request.confirmCount);
  }
  const replay = await db.transaction(async (trx) => {
    const stored = await insertReplay(trx, {
      id: uuidv7(),
      requestedBy: actor.name,
      filter,
      scope: actor.scope,
      target: request.target,
      rateLimit: request.rateLimit ?? options.defaultRateLimit,
      total: count.events,
    });
    const shown = replayJson(stored);
    await insertAuditEntry(trx, {
      actor: actor.name,
      action: 'replays.start',
      outcome: 'ok',
      target: { replay_id: stored.id, filter: shown.filter, target: shown.target, rate_limit: shown.rate_limit },
      result: { status: stored.status, total: stored.total },
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    return stored;
  });
  return { dryRun: false, replay };
}

/** The replays the actor may see: all for an unscoped key, else those made under its very scope. */
function visibleTo(actor: ReplayActor): EventScope | undefined {
  return isUnrestricted(actor.scope) ? undefined : actor.scope;
}

export async function getReplay(db: Knex, id: string, actor: ReplayActor): Promise<ReplayRecord> {
  if (!isUuid(id)) throw new ReplayNotFoundError(id);
  const scope = visibleTo(actor);
  const [replay] = await listReplays(db, { id, ...(scope ? { scope } : {}) }, { limit: 1 });
  if (!replay) throw new ReplayNotFoundError(id);
  return replay;
}

export async function listVisibleReplays(
  db: Knex,
  actor: ReplayActor,
  options: { limit: number; beforeId?: string; status?: ReplayStatus },
): Promise<ReplayRecord[]> {
  const scope = visibleTo(actor);
  return listReplays(
    db,
    { ...(scope ? { scope } : {}), ...(options.status ? { status: options.status } : {}) },
    { limit: options.limit, ...(options.beforeId ? { beforeId: options.beforeId } : {}) },
  );
}

/** Cancels a queued or running replay the actor may see, audited in the same transaction. */
export async function cancelVisibleReplay(
  db: Knex,
  id: string,
  actor: ReplayActor,
  options: { requestId?: string } = {},
): Promise<ReplayRecord> {
  const existing = await getReplay(db, id, actor);
  return db.transaction(async (trx) => {
    const cancelled = await cancelReplay(trx, existing.id, actor.name);
    if (!cancelled) {
      const [now] = await listReplays(trx, { id }, { limit: 1 });
      throw new ReplayFinishedError(now ?? existing);
    }
    await insertAuditEntry(trx, {
      actor: actor.name,
      action: 'replays.cancel',
      outcome: 'ok',
      target: { replay_id: id },
      result: {
        status: cancelled.status,
        matched: cancelled.matched,
        enqueued: cancelled.enqueued,
        total: cancelled.total,
      },
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    return cancelled;
  });
}

/** A replay as the API and `orchestron replay --json` show it (snake_case, times as ISO text). */
export function replayJson(replay: ReplayRecord): {
  id: string;
  status: ReplayStatus;
  requested_by: string;
  filter: Record<string, unknown>;
  scope: EventScope;
  target: Record<string, unknown> | null;
  rate_limit: number;
  total: number;
  matched: number;
  enqueued: number;
  skipped: number;
  cursor: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  cancelled_by: string | null;
  error: string | null;
} {
  const target = replay.target;
  return {
    id: replay.id,
    status: replay.status,
    requested_by: replay.requestedBy,
    filter: filterJson(replay.filter),
    scope: replay.scope,
    target:
      target === null
        ? null
        : target.broker === 'kafka'
          ? { broker: 'kafka', topic: target.destination }
          : {
              broker: 'rabbitmq',
              exchange: target.destination,
              ...(target.routingKey !== null ? { routing_key: target.routingKey } : {}),
            },
    rate_limit: replay.rateLimit,
    total: replay.total,
    matched: replay.matched,
    enqueued: replay.enqueued,
    skipped: replay.skipped,
    cursor: replay.cursor,
    created_at: replay.createdAt.toISOString(),
    started_at: replay.startedAt?.toISOString() ?? null,
    finished_at: replay.finishedAt?.toISOString() ?? null,
    cancelled_by: replay.cancelledBy,
    error: replay.error,
  };
}

/** A filter in the request's own shape, times as ISO text. */
export function filterJson(filter: ReplayFilter): Record<string, unknown> {
  return {
    ...(filter.sources ? { sources: filter.sources } : {}),
    ...(filter.types ? { types: filter.types } : {}),
    ...(filter.since ? { since: filter.since.toISOString() } : {}),
    ...(filter.until ? { until: filter.until.toISOString() } : {}),
    ...(filter.ids ? { ids: filter.ids } : {}),
  };
}
