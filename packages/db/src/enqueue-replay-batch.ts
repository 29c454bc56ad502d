import type { Knex } from 'knex';
import type { Executor } from './types';

/** What one batch of a replay did. */
export interface ReplayBatchResult {
  /**
   * False when the runner does not hold the replay as it thought (cancelled, finished, taken
   * over after its lease ran out, or its cursor moved elsewhere): then nothing was done and
   * the runner must let it go.
   */
  held: boolean;
  /** Events walked by this batch (fewer than asked: the replay has walked every event). */
  matched: number;
  /** Outbox rows written. */
  enqueued: number;
  /** Events walked with no original route left to send them to. */
  skipped: number;
  /** The last event id walked, from which the next batch goes on. */
  cursor: string | null;
}

const NO_CURSOR = '00000000-0000-0000-0000-000000000000';

/**
 * One batch of a replay, in one statement (so all of it happens or none): takes the next
 * `limit` events after `cursor` (keyset over events by id) matching `condition` (from
 * replayCondition), writes a pending outbox row for each of their routes marked with the
 * replay's id, and records on the replay the new cursor, the counts and a renewed lease.
 *
 * Routes: with no target on the replay, each event's original outbox rows (those ingest
 * wrote, not earlier replays'), one per broker, destination and routing key; with a target,
 * that destination, the routing key given or else the event type, and the event's original
 * partition key while one of its rows is left.
 *
 * The replay's row is locked (FOR UPDATE) for the statement's transaction, which is how a
 * cancel waits for the batch in flight and how the runner learns it lost the job; the outbox
 * is only inserted into, never locked, so the relays claim and publish on undisturbed. The
 * unique index on (replay_id, event_id, broker, destination, routing_key) with ON CONFLICT DO
 * NOTHING makes a batch that runs twice enqueue nothing twice. Outbox ids follow event order.
 *
 * The caller NOTIFYs the relays (notifyOutbox) in the same transaction when rows were written.
 */
export async function enqueueReplayBatch(
  trx: Executor,
  replay: {
    id: string;
    runnerId: string;
    cursor: string | null;
    condition: { sql: string; bindings: readonly Knex.Value[] };
    limit: number;
    leaseMs: number;
  },
): Promise<ReplayBatchResult> {
  const result = await trx.raw<{
    rows: Array<{ held: boolean; matched: string; enqueued: string; skipped: string; cursor: string | null }>;
  }>(
    `with job as (
       select id, target_broker, target_destination, target_routing_key
       from replays
       where id = ? and claimed_by = ? and status = 'running' and cursor is not distinct from ?::uuid
       for update
     ), batch as (
       select e.id, e.type
       from events e
       where exists (select 1 from job) and e.id > ?::uuid and ${replay.condition.sql}
       order by e.id
       limit ?
     ), original_routes as (
       select distinct on (o.event_id, o.broker, o.destination, o.routing_key)
              o.event_id, o.broker, o.destination, o.routing_key, o.partition_key
       from batch b join outbox o on o.event_id = b.id
       where o.replay_id is null and (select target_broker from job) is null
       order by o.event_id, o.broker, o.destination, o.routing_key, o.id
     ), named_routes as (
       select b.id as event_id, job.target_broker as broker, job.target_destination as destination,
              coalesce(job.target_routing_key, b.type) as routing_key,
              (select o.partition_key from outbox o
               where o.event_id = b.id and o.replay_id is null order by o.id limit 1) as partition_key
       from batch b cross join job
       where job.target_broker is not null
     ), routes as (
       select * from original_routes union all select * from named_routes
     ), inserted as (
       insert into outbox (event_id, broker, destination, routing_key, partition_key, replay_id)
       select r.event_id, r.broker, r.destination, r.routing_key, r.partition_key, job.id
       from routes r cross join job
       order by r.event_id, r.broker, r.destination, r.routing_key
       on conflict (replay_id, event_id, broker, destination, routing_key) where replay_id is not null do nothing
       returning event_id
     ), counts as (
       select (select count(*) from batch) as matched,
              (select count(*) from inserted) as enqueued,
              (select count(*) from batch b where not exists (select 1 from routes r where r.event_id = b.id)) as skipped,
              (select id from batch order by id desc limit 1) as last_id
     ), advanced as (
       update replays r
       set cursor = coalesce(counts.last_id, r.cursor), matched = r.matched + counts.matched,
           enqueued = r.enqueued + counts.enqueued, skipped = r.skipped + counts.skipped,
           lease_until = now() + ? * interval '1 millisecond'
       from job, counts
       where r.id = job.id
       returning r.cursor
     )
     select exists (select 1 from job) as held, counts.matched, counts.enqueued, counts.skipped,
            coalesce((select cursor from advanced), ?::uuid) as cursor
     from counts`,
    [
      replay.id,
      replay.runnerId,
      replay.cursor,
      replay.cursor ?? NO_CURSOR,
      ...replay.condition.bindings,
      replay.limit,
      replay.leaseMs,
      replay.cursor,
    ],
  );
  const row = result.rows[0];
  if (!row || !row.held) return { held: false, matched: 0, enqueued: 0, skipped: 0, cursor: replay.cursor };
  return {
    held: true,
    matched: Number(row.matched),
    enqueued: Number(row.enqueued),
    skipped: Number(row.skipped),
    cursor: row.cursor,
  };
}
