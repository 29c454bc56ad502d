import type { Executor } from './types';

/** The pending rows of one broker, or of one destination of a broker. */
export interface Backlog {
  pending: number;
  oldestPendingAgeSeconds: number;
  /**
   * How long the longest-waiting due row has been due: since it was written when it was never
   * tried, since its retry time when it was. Rows waiting out a retry backoff do not count, so
   * this grows only when the relay is not keeping up (down, stuck, too slow, broker down).
   */
  oldestDueAgeSeconds: number;
}

export interface BrokerBacklog extends Backlog {
  broker: string;
}

export interface DestinationBacklog extends BrokerBacklog {
  destination: string;
}

export interface OutboxStats extends Backlog {
  /** Dead letters waiting for an operator (status `dead`). */
  dead: number;
  /**
   * Per broker with pending rows, whether or not any relay serves it: a row for a broker no
   * relay publishes to shows here (and in the relay's gauges) instead of waiting unseen.
   */
  brokers: BrokerBacklog[];
  /** Per broker and destination with pending rows. */
  destinations: DestinationBacklog[];
}

interface Row {
  broker: string | null;
  destination: string | null;
  level: number;
  pending: string;
  oldest_age: number | null;
  oldest_due_age: number | null;
  dead: string;
}

/**
 * Backlog size and age (in total, per broker, per broker and destination) and the dead-letter
 * queue size. One pass over the pending rows only (the partial index of pending rows, as small
 * as the backlog however large the table), grouped three ways at once with grouping sets, so
 * it is cheap enough for a periodic refresh; not meant for every scrape.
 */
export async function outboxStats(db: Executor): Promise<OutboxStats> {
  const result = await db.raw<{ rows: Row[] }>(
    `select broker, destination,
            grouping(broker, destination) as level,
            count(*) as pending,
            extract(epoch from now() - min(created_at))::float8 as oldest_age,
            extract(epoch from now() - min(case when attempts = 0 then created_at else next_attempt_at end)
                                         filter (where next_attempt_at <= now()))::float8 as oldest_due_age,
            (select count(*) from dead_letter_queue where status = 'dead') as dead
     from outbox
     where status = 'pending'
     group by grouping sets ((broker, destination), (broker), ())
     order by broker, destination`,
  );
  const backlog = (row: Row | undefined): Backlog => ({
    pending: Number(row?.pending ?? 0),
    oldestPendingAgeSeconds: Math.max(0, row?.oldest_age ?? 0),
    oldestDueAgeSeconds: Math.max(0, row?.oldest_due_age ?? 0),
  });
  // grouping(): 0 = broker and destination, 1 = broker only, 3 = the total.
  const total = result.rows.find((row) => Number(row.level) === 3);
  return {
    ...backlog(total),
    dead: Number(total?.dead ?? 0),
    brokers: result.rows
      .filter((row) => Number(row.level) === 1)
      .map((row) => ({ broker: row.broker ?? '', ...backlog(row) })),
    destinations: result.rows
      .filter((row) => Number(row.level) === 0)
      .map((row) => ({ broker: row.broker ?? '', destination: row.destination ?? '', ...backlog(row) })),
  };
}
