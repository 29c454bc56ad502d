import { scopeCondition, isUnrestricted, type EventScope } from './event-scope';
import type { Executor } from './types';

/** The pending outbox rows of one destination: how many, and how long the oldest has waited. */
export interface ScopedDestinationBacklog {
  broker: string;
  destination: string;
  pending: number;
  oldestPendingAgeSeconds: number;
  /** As OutboxStats.oldestDueAgeSeconds, for this destination. */
  oldestDueAgeSeconds: number;
  /** Dead letters of this destination waiting for an operator. */
  dead: number;
}

/**
 * outboxStats per broker and destination, over the events `scope` may see. Reads the
 * pending rows only (their partial index) and the waiting dead letters; a scope adds a join
 * to events to leave out what the key may not see.
 */
export async function backlogByDestination(db: Executor, scope?: EventScope): Promise<ScopedDestinationBacklog[]> {
  const scoped = !isUnrestricted(scope);
  const condition = scopeCondition(scope, 'e');
  const join = (table: string) => (scoped ? `join events e on e.id = ${table}.event_id and (${condition.sql})` : '');
  const result = await db.raw<{
    rows: Array<{
      broker: string;
      destination: string;
      pending: string;
      oldest_age: number | null;
      oldest_due_age: number | null;
      dead: string;
    }>;
  }>(
    `with pending as (
       select o.broker, o.destination, count(*) as pending,
              extract(epoch from now() - min(o.created_at))::float8 as oldest_age,
              extract(epoch from now() - min(case when o.attempts = 0 then o.created_at else o.next_attempt_at end)
                                           filter (where o.next_attempt_at <= now()))::float8 as oldest_due_age
       from outbox o ${join('o')}
       where o.status = 'pending'
       group by o.broker, o.destination
     ), dead as (
       select d.broker, d.destination, count(*) as dead
       from dead_letter_queue d ${join('d')}
       where d.status = 'dead'
       group by d.broker, d.destination
     )
     select coalesce(p.broker, d.broker) as broker, coalesce(p.destination, d.destination) as destination,
            coalesce(p.pending, 0) as pending, p.oldest_age, p.oldest_due_age, coalesce(d.dead, 0) as dead
     from pending p full join dead d on d.broker = p.broker and d.destination = p.destination
     order by 1, 2`,
    scoped ? [...condition.bindings, ...condition.bindings] : [],
  );
  return result.rows.map((row) => ({
    broker: row.broker,
    destination: row.destination,
    pending: Number(row.pending),
    oldestPendingAgeSeconds: Math.max(0, row.oldest_age ?? 0),
    oldestDueAgeSeconds: Math.max(0, row.oldest_due_age ?? 0),
    dead: Number(row.dead),
  }));
}
