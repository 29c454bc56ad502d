import type { Queryable } from './queryable';

export interface InboxEntry {
  readonly consumer: string;
  readonly eventId: string;
  readonly source: string;
  readonly type: string;
  readonly outcome: 'handled' | 'dead_lettered';
}

/**
 * Records the event in the inbox, in the caller's transaction. False when it is there already
 * (a duplicate: handled or dead-lettered before). A concurrent transaction recording the same
 * event makes this one wait for it, then see the conflict: two copies are never both handled.
 */
export async function recordInInbox(tx: Queryable, entry: InboxEntry): Promise<boolean> {
  const result = await tx.query(
    `insert into orchestron_inbox (consumer, event_id, source, type, outcome)
     values ($1, $2, $3, $4, $5)
     on conflict (consumer, event_id) do nothing`,
    [entry.consumer, entry.eventId, entry.source, entry.type, entry.outcome],
  );
  return result.rowCount === 1;
}
