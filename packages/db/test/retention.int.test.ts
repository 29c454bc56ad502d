import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { deadLetter, deleteOldEvents, deletePublishedOutbox, insertEvents, insertOutboxRows, uuidv7 } from '../src';

let database: TestDatabase;
const HOUR = 3_600_000;

beforeAll(async () => {
  database = await createTestDatabase('retention');
});

afterAll(async () => {
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events, dead_letter_queue cascade');
});

/** Events received `ageHours` ago, one outbox row each; returns the event ids. */
async function events(count: number, ageHours: number): Promise<string[]> {
  const receivedAt = new Date(Date.now() - ageHours * HOUR);
  const ids = Array.from({ length: count }, () => uuidv7());
  await insertEvents(
    database.db,
    ids.map((id) => ({
      id,
      source: 'shop',
      type: 'order.created',
      schemaVersion: 1,
      idempotencyKey: null,
      payload: { id },
      headers: {},
      receivedAt,
    })),
  );
  await insertOutboxRows(
    database.db,
    ids.map((eventId) => ({ eventId, broker: 'kafka', destination: 'orders', routingKey: '', partitionKey: null })),
  );
  return ids;
}

async function publish(eventIds: string[], ageHours: number): Promise<void> {
  await database
    .db('outbox')
    .whereIn('event_id', eventIds)
    .update({ status: 'published', published_at: new Date(Date.now() - ageHours * HOUR) });
}

async function count(table: string, where: Record<string, unknown> = {}): Promise<number> {
  const [row] = await database.db(table).where(where).count({ n: '*' });
  return Number(row?.n);
}

describe('deletePublishedOutbox', () => {
  it('deletes only published rows older than the retention, at most a batch at a time', async () => {
    const old = await events(5, 30);
    await publish(old, 25);
    const recent = await events(2, 30);
    await publish(recent, 1);
    await events(3, 30); // pending, however old

    expect(await deletePublishedOutbox(database.db, { olderThanMs: 24 * HOUR, limit: 3 })).toBe(3);
    expect(await deletePublishedOutbox(database.db, { olderThanMs: 24 * HOUR, limit: 3 })).toBe(2);
    expect(await deletePublishedOutbox(database.db, { olderThanMs: 24 * HOUR, limit: 3 })).toBe(0);

    expect(await count('outbox', { status: 'published' })).toBe(2);
    expect(await count('outbox', { status: 'pending' })).toBe(3);
    // Events stay: they have their own retention.
    expect(await count('events')).toBe(10);
  });

  it('skips rows another deleter holds, so replicas running it at once never wait or collide', async () => {
    await publish(await events(6, 30), 25);
    const first = await database.db.transaction();
    try {
      expect(await deletePublishedOutbox(first, { olderThanMs: HOUR, limit: 4 })).toBe(4);
      // Would block on the four locked rows without SKIP LOCKED.
      expect(await deletePublishedOutbox(database.db, { olderThanMs: HOUR, limit: 4 })).toBe(2);
      await first.commit();
    } finally {
      if (!first.isCompleted()) await first.rollback();
    }
    expect(await count('outbox')).toBe(0);
  });
});

describe('deleteOldEvents', () => {
  it('deletes old settled events with their remaining outbox and dead-letter rows', async () => {
    const settled = await events(3, 200);
    await publish(settled, 199);
    const recent = await events(1, 1);
    await publish(recent, 1);

    expect(await deleteOldEvents(database.db, { olderThanMs: 168 * HOUR, limit: 100 })).toBe(3);
    expect(await database.db('events').pluck('id')).toEqual(recent);
    expect(await count('outbox')).toBe(1);
  });

  it('keeps an old event while one of its outbox rows is pending or one of its dead letters waits', async () => {
    const [pending, dead, replayed, discarded] = await events(4, 200);
    const outboxOf = async (eventId: string | undefined): Promise<number> =>
      (await database.db('outbox').where({ event_id: eventId }).first()).id;
    for (const eventId of [dead, replayed, discarded]) {
      const id = await outboxOf(eventId);
      await database.db.transaction((trx) => deadLetter(trx, [{ id, error: 'NO_ROUTE' }]));
    }
    await database.db('dead_letter_queue').where({ event_id: replayed }).update({ status: 'replayed' });
    await database.db('dead_letter_queue').where({ event_id: discarded }).update({ status: 'discarded' });

    expect(await deleteOldEvents(database.db, { olderThanMs: 168 * HOUR, limit: 100 })).toBe(2);
    expect((await database.db('events').pluck('id')).sort()).toEqual([pending, dead].sort());
    // The replayed and discarded dead letters went with their events; the waiting one stays.
    expect(await database.db('dead_letter_queue').pluck('event_id')).toEqual([dead]);
  });

  it('works through a large backlog in batches of the given size', async () => {
    const ids = await events(25, 200);
    await publish(ids, 199);
    const batches: number[] = [];
    for (;;) {
      const deleted = await deleteOldEvents(database.db, { olderThanMs: 168 * HOUR, limit: 10 });
      batches.push(deleted);
      if (deleted < 10) break;
    }
    expect(batches).toEqual([10, 10, 5]);
    expect(await count('events')).toBe(0);
    expect(await count('outbox')).toBe(0);
  });
});
