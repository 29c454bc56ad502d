import { REPLAY_COLUMNS, toReplayRecord, toStoredFilter, type ReplayRecord, type ReplayRow } from './replay-record';
import type { Executor } from './types';

/** A replay as asked for; `total` is the number of events matching then (the dry-run count). */
export type NewReplay = Pick<
  ReplayRecord,
  'id' | 'requestedBy' | 'filter' | 'scope' | 'target' | 'rateLimit' | 'total'
>;

/** Stores a replay job, queued; a runner claims it. Joins the caller's transaction (and its audit entry). */
export async function insertReplay(db: Executor, replay: NewReplay): Promise<ReplayRecord> {
  const result = await db.raw<{ rows: ReplayRow[] }>(
    `insert into replays as r (id, requested_by, filter, scope, target_broker, target_destination, target_routing_key,
       rate_limit, total)
     values (?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?)
     returning ${REPLAY_COLUMNS}`,
    [
      replay.id,
      replay.requestedBy,
      JSON.stringify(toStoredFilter(replay.filter)),
      JSON.stringify({ sources: replay.scope.sources, types: replay.scope.types }),
      replay.target?.broker ?? null,
      replay.target?.destination ?? null,
      replay.target?.routingKey ?? null,
      replay.rateLimit,
      replay.total,
    ],
  );
  return toReplayRecord(result.rows[0] as ReplayRow);
}
