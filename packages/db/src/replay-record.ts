import type { EventScope } from './event-scope';
import type { ReplayFilter } from './replay-filter';

export type ReplayStatus = 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';

/** Where a replay sends events: null target means each event's original routes. */
export interface ReplayTarget {
  broker: 'rabbitmq' | 'kafka';
  /** Kafka topic or RabbitMQ exchange. */
  destination: string;
  /** RabbitMQ routing key; null: the event type. */
  routingKey: string | null;
}

/** A replay job as stored (migrations/20261203000010_create_replays.js). */
export interface ReplayRecord {
  id: string;
  requestedBy: string;
  filter: ReplayFilter;
  scope: EventScope;
  target: ReplayTarget | null;
  /** Events per second. */
  rateLimit: number;
  status: ReplayStatus;
  /** Events that matched when the replay was created. */
  total: number;
  /** Events walked so far. */
  matched: number;
  /** Outbox rows written so far (an event has one per route). */
  enqueued: number;
  /** Events walked that had no original route left (to original routes only). */
  skipped: number;
  /** The last event id walked: the runner resumes after it. */
  cursor: string | null;
  claimedBy: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  cancelledBy: string | null;
  error: string | null;
}

/** Every column, for the statements that hand back whole replays. */
export const REPLAY_COLUMNS = `r.id, r.requested_by, r.filter, r.scope, r.target_broker, r.target_destination,
  r.target_routing_key, r.rate_limit, r.status, r.total, r.matched, r.enqueued, r.skipped, r.cursor, r.claimed_by,
  r.lease_until, r.created_at, r.started_at, r.finished_at, r.cancelled_by, r.error`;

export interface ReplayRow {
  id: string;
  requested_by: string;
  filter: StoredFilter;
  scope: EventScope;
  target_broker: 'rabbitmq' | 'kafka' | null;
  target_destination: string | null;
  target_routing_key: string | null;
  rate_limit: number;
  status: ReplayStatus;
  total: string;
  matched: string;
  enqueued: string;
  skipped: string;
  cursor: string | null;
  claimed_by: string | null;
  lease_until: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  cancelled_by: string | null;
  error: string | null;
}

/** The filter as the jsonb column holds it: times as ISO text. */
export interface StoredFilter {
  sources?: string[];
  types?: string[];
  since?: string;
  until?: string;
  ids?: string[];
}

export function toStoredFilter(filter: ReplayFilter): StoredFilter {
  return {
    ...(filter.sources ? { sources: [...filter.sources] } : {}),
    ...(filter.types ? { types: [...filter.types] } : {}),
    ...(filter.since ? { since: filter.since.toISOString() } : {}),
    ...(filter.until ? { until: filter.until.toISOString() } : {}),
    ...(filter.ids ? { ids: [...filter.ids] } : {}),
  };
}

function fromStoredFilter(stored: StoredFilter): ReplayFilter {
  return {
    ...(stored.sources ? { sources: stored.sources } : {}),
    ...(stored.types ? { types: stored.types } : {}),
    ...(stored.since ? { since: new Date(stored.since) } : {}),
    ...(stored.until ? { until: new Date(stored.until) } : {}),
    ...(stored.ids ? { ids: stored.ids } : {}),
  };
}

export function toReplayRecord(row: ReplayRow): ReplayRecord {
  return {
    id: row.id,
    requestedBy: row.requested_by,
    filter: fromStoredFilter(row.filter),
    scope: row.scope,
    target:
      row.target_broker && row.target_destination
        ? { broker: row.target_broker, destination: row.target_destination, routingKey: row.target_routing_key }
        : null,
    rateLimit: row.rate_limit,
    status: row.status,
    // bigint counters arrive as text; a replay never walks 2^53 events.
    total: Number(row.total),
    matched: Number(row.matched),
    enqueued: Number(row.enqueued),
    skipped: Number(row.skipped),
    cursor: row.cursor,
    claimedBy: row.claimed_by,
    leaseUntil: row.lease_until,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    cancelledBy: row.cancelled_by,
    error: row.error,
  };
}
