import type { EventScope } from './event-scope';
import { REPLAY_COLUMNS, toReplayRecord, type ReplayRecord, type ReplayRow, type ReplayStatus } from './replay-record';
import type { Executor } from './types';

export interface ReplayListFilter {
  /** One replay. */
  id?: string;
  status?: ReplayStatus;
  /**
   * Only replays made under exactly this scope (a scoped key sees the replays of its scope);
   * absent: every replay.
   */
  scope?: EventScope;
}

/**
 * Replays newest first, at most `limit`; `beforeId` pages on from the last id of the previous
 * page (ids are UUIDv7, so id order is creation order).
 */
export async function listReplays(
  db: Executor,
  filter: ReplayListFilter,
  options: { limit: number; beforeId?: string },
): Promise<ReplayRecord[]> {
  const parts: string[] = [];
  const bindings: Array<string | number> = [];
  if (filter.id !== undefined) {
    parts.push('r.id = ?');
    bindings.push(filter.id);
  }
  if (filter.status !== undefined) {
    parts.push('r.status = ?');
    bindings.push(filter.status);
  }
  if (filter.scope !== undefined) {
    parts.push('r.scope = ?::jsonb');
    bindings.push(JSON.stringify({ sources: filter.scope.sources, types: filter.scope.types }));
  }
  if (options.beforeId !== undefined) {
    parts.push('r.id < ?');
    bindings.push(options.beforeId);
  }
  const result = await db.raw<{ rows: ReplayRow[] }>(
    `select ${REPLAY_COLUMNS} from replays r
     where ${parts.length > 0 ? parts.join(' and ') : 'true'}
     order by r.id desc
     limit ?`,
    [...bindings, options.limit],
  );
  return result.rows.map(toReplayRecord);
}
