import type { EventScope } from './event-scope';
import { replayCondition, type ReplayFilter } from './replay-filter';
import type { Executor } from './types';

/** What a replay would take: for its dry run, and for the confirmation of an unbounded one. */
export interface ReplayCount {
  /** Stored events matching the filter within the scope. */
  events: number;
  /**
   * Of those, the events none of whose original outbox rows is left (retention deletes
   * published rows after `retention.published_outbox`): a replay to the original routes skips
   * them; one to a named destination takes them.
   */
  withoutOriginalRoute: number;
}

/** Counts the events a replay with `filter` and `scope` would take. Reads only; locks nothing. */
export async function countReplayEvents(db: Executor, filter: ReplayFilter, scope: EventScope): Promise<ReplayCount> {
  const condition = replayCondition(filter, scope);
  const result = await db.raw<{ rows: Array<{ events: string; without_original_route: string }> }>(
    `select count(*) as events,
            count(*) filter (where not exists (
              select 1 from outbox o where o.event_id = e.id and o.replay_id is null)) as without_original_route
     from events e
     where ${condition.sql}`,
    condition.bindings,
  );
  const row = result.rows[0];
  return { events: Number(row?.events ?? 0), withoutOriginalRoute: Number(row?.without_original_route ?? 0) };
}
