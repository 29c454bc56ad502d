import type { Executor } from './types';
import { jsonParam } from './types';

export interface NewOutboxRow {
  eventId: string;
  broker: string;
  destination: string;
  routingKey: string;
  partitionKey: string | null;
}

/** Inserts the outbox rows of accepted events in one statement, in the given order. */
export async function insertOutboxRows(db: Executor, rows: readonly NewOutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.raw(
    `insert into outbox (event_id, broker, destination, routing_key, partition_key)
     select event_id, broker, destination, routing_key, partition_key
     from rows from (jsonb_to_recordset(?::jsonb) as (event_id uuid, broker text, destination text,
       routing_key text, partition_key text)) with ordinality as r(event_id, broker, destination, routing_key,
       partition_key, n)
     order by n`,
    [
      jsonParam(
        rows.map((r) => ({
          event_id: r.eventId,
          broker: r.broker,
          destination: r.destination,
          routing_key: r.routingKey,
          partition_key: r.partitionKey,
        })),
      ),
    ],
  );
}
