import type { Knex } from 'knex';
import { insertEvents, insertOutboxRows, uuidv7 } from '@orchestron/db';

export interface SeededEvent {
  id: string;
  source: string;
  type: string;
  receivedAt: Date;
}

/**
 * Stores events as ingest would have, each with one outbox row to `route` (routing key the
 * type), already published: the history a replay works from. Ids are made
 * from `receivedAt` (UUIDv7), as ingest makes them.
 */
export async function seedPublishedEvents(
  db: Knex,
  specs: ReadonlyArray<{ source: string; type: string; receivedAt?: Date }>,
  route: { broker: 'rabbitmq' | 'kafka'; destination: string } = { broker: 'rabbitmq', destination: 'history' },
): Promise<SeededEvent[]> {
  const events = specs.map((spec) => {
    const receivedAt = spec.receivedAt ?? new Date();
    return { id: uuidv7(receivedAt.getTime()), source: spec.source, type: spec.type, receivedAt };
  });
  for (let i = 0; i < events.length; i += 1_000) {
    const chunk = events.slice(i, i + 1_000);
    await insertEvents(
      db,
      chunk.map((e) => ({
        id: e.id,
        source: e.source,
        type: e.type,
        schemaVersion: 1,
        idempotencyKey: null,
        payload: { n: e.id },
        headers: { 'content-type': 'application/json', 'request-id': `req-${e.id}` },
        receivedAt: e.receivedAt,
      })),
    );
    await insertOutboxRows(
      db,
      chunk.map((e) => ({
        eventId: e.id,
        broker: route.broker,
        destination: route.destination,
        routingKey: e.type,
        partitionKey: null,
      })),
    );
  }
  await db.raw(
    `update outbox set status = 'published', published_at = now() where replay_id is null and status = 'pending'`,
  );
  return events;
}
