import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import {
  deadLetter,
  discardDeadLetters,
  globToLike,
  insertEvents,
  insertOutboxRows,
  listDeadLetters,
  outboxStats,
  replayDeadLetters,
  uuidv7,
} from '../src';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('dead_letters');
});

afterAll(async () => {
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events, dead_letter_queue cascade');
});

interface Seed {
  type?: string;
  source?: string;
  destination?: string;
  error?: string;
  partitionKey?: string | null;
}

/** One event routed to one destination, its outbox row dead-lettered with `error`; returns ids. */
async function deadLettered(seed: Seed = {}): Promise<{ eventId: string; outboxId: number; id: number }> {
  const eventId = uuidv7();
  await insertEvents(database.db, [
    {
      id: eventId,
      source: seed.source ?? 'shop',
      type: seed.type ?? 'order.created',
      schemaVersion: 1,
      idempotencyKey: null,
      payload: { order: eventId },
      headers: { 'content-type': 'application/json' },
      receivedAt: new Date(),
    },
  ]);
  await insertOutboxRows(database.db, [
    {
      eventId,
      broker: 'rabbitmq',
      destination: seed.destination ?? 'orders',
      routingKey: seed.type ?? 'order.created',
      partitionKey: seed.partitionKey ?? null,
    },
  ]);
  const [outbox] = await database.db('outbox').where({ event_id: eventId }).select('id');
  await database.db.transaction((trx) => deadLetter(trx, [{ id: outbox.id, error: seed.error ?? 'NO_ROUTE' }]));
  const [row] = await database.db('dead_letter_queue').where({ event_id: eventId }).select('id');
  return { eventId, outboxId: outbox.id, id: row.id };
}

describe('listDeadLetters', () => {
  it('lists dead letters oldest first with the type and source of their event', async () => {
    const a = await deadLettered({ type: 'order.created', source: 'shop' });
    const b = await deadLettered({ type: 'user.signed_up', source: 'crm', destination: 'users' });
    const rows = await listDeadLetters(database.db, { status: 'dead' }, { limit: 10 });
    expect(rows.map((r) => r.id)).toEqual([a.id, b.id]);
    expect(rows[1]).toMatchObject({
      eventId: b.eventId,
      outboxId: b.outboxId,
      type: 'user.signed_up',
      source: 'crm',
      broker: 'rabbitmq',
      destination: 'users',
      error: 'NO_ROUTE',
      attempts: 1,
      status: 'dead',
      replayedAt: null,
    });
    expect(rows[1]?.createdAt).toBeInstanceOf(Date);
  });

  it('narrows by every filter, each on its own and combined', async () => {
    const order = await deadLettered({ type: 'order.created', source: 'shop', error: 'NO_ROUTE: unroutable' });
    const refund = await deadLettered({ type: 'order.refunded', source: 'pos', error: 'message too large' });
    const user = await deadLettered({ type: 'user.signed_up', source: 'crm', destination: 'users' });
    const ids = async (filter: Parameters<typeof listDeadLetters>[1]): Promise<number[]> =>
      (await listDeadLetters(database.db, filter, { limit: 10 })).map((r) => r.id);

    expect(await ids({ type: 'order.*' })).toEqual([order.id, refund.id]);
    expect(await ids({ type: '*.signed_up' })).toEqual([user.id]);
    expect(await ids({ type: 'order' })).toEqual([]);
    expect(await ids({ source: 'pos' })).toEqual([refund.id]);
    expect(await ids({ destination: 'users' })).toEqual([user.id]);
    expect(await ids({ errorContains: 'too LARGE' })).toEqual([refund.id]);
    expect(await ids({ ids: [order.id, user.id] })).toEqual([order.id, user.id]);
    expect(await ids({ type: 'order.*', source: 'shop', errorContains: 'unroutable' })).toEqual([order.id]);

    await database
      .db('dead_letter_queue')
      .where({ id: order.id })
      .update({ created_at: database.db.raw(`now() - interval '2 days'`) });
    const dayAgo = new Date(Date.now() - 86_400_000);
    expect(await ids({ since: dayAgo })).toEqual([refund.id, user.id]);
    expect(await ids({ until: dayAgo })).toEqual([order.id]);
  });

  it('takes LIKE wildcards in a type glob literally', async () => {
    const literal = await deadLettered({ type: 'a_b%c' });
    await deadLettered({ type: 'axbyc' });
    expect(globToLike('a_b%c\\*')).toBe('a\\_b\\%c\\\\%');
    const rows = await listDeadLetters(database.db, { type: 'a_b%c' }, { limit: 10 });
    expect(rows.map((r) => r.id)).toEqual([literal.id]);
  });

  it('filters by status, pages on after an id, and includes the event on request', async () => {
    const first = await deadLettered();
    const second = await deadLettered();
    const third = await deadLettered();
    await database.db('dead_letter_queue').where({ id: second.id }).update({ status: 'discarded' });

    expect((await listDeadLetters(database.db, { status: 'dead' }, { limit: 10 })).map((r) => r.id)).toEqual([
      first.id,
      third.id,
    ]);
    expect((await listDeadLetters(database.db, { status: 'discarded' }, { limit: 10 })).map((r) => r.id)).toEqual([
      second.id,
    ]);
    expect((await listDeadLetters(database.db, {}, { limit: 2, afterId: first.id })).map((r) => r.id)).toEqual([
      second.id,
      third.id,
    ]);
    const [detail] = await listDeadLetters(database.db, { ids: [first.id] }, { limit: 1, includeEvent: true });
    expect(JSON.parse(detail?.payload ?? '')).toEqual({ order: first.eventId });
    expect(detail?.headers).toEqual({ 'content-type': 'application/json' });
    expect(detail?.receivedAt).toBeInstanceOf(Date);
  });
});

describe('replayDeadLetters', () => {
  it('enqueues a new pending outbox row per dead letter and records when and into which row', async () => {
    const dead = await deadLettered({ partitionKey: 'customer-7' });
    const replayed = await database.db.transaction((trx) => replayDeadLetters(trx, {}, 100));

    expect(replayed).toHaveLength(1);
    const [entry] = replayed;
    expect(entry).toMatchObject({ id: dead.id, eventId: dead.eventId, destination: 'orders' });
    expect(entry?.outboxId).not.toBe(dead.outboxId);
    const outbox = await database.db('outbox').where({ id: entry?.outboxId }).first();
    expect(outbox).toMatchObject({
      event_id: dead.eventId,
      broker: 'rabbitmq',
      destination: 'orders',
      routing_key: 'order.created',
      partition_key: 'customer-7',
      status: 'pending',
      attempts: 0,
      last_error: null,
    });
    expect(outbox.next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    const row = await database.db('dead_letter_queue').where({ id: dead.id }).first();
    expect(row).toMatchObject({ status: 'replayed', replayed_outbox_id: entry?.outboxId, discarded_at: null });
    expect(row.replayed_at).toBeInstanceOf(Date);
    // The original outbox row stays dead: the history of what failed is kept.
    expect(await database.db('outbox').where({ id: dead.outboxId }).first()).toMatchObject({ status: 'dead' });
    // New rows keep drawing ids from the same sequence, after the replayed one.
    await insertOutboxRows(database.db, [
      { eventId: dead.eventId, broker: 'rabbitmq', destination: 'x', routingKey: '', partitionKey: null },
    ]);
    const latest = await database.db('outbox').max({ id: 'id' }).first();
    expect(latest?.id).toBeGreaterThan(entry?.outboxId ?? Infinity);
  });

  it('never replays a row twice, nor one that is not dead', async () => {
    const a = await deadLettered();
    const b = await deadLettered();
    await database.db('dead_letter_queue').where({ id: b.id }).update({ status: 'discarded' });
    expect((await database.db.transaction((trx) => replayDeadLetters(trx, {}, 100))).map((r) => r.id)).toEqual([a.id]);
    expect(await database.db.transaction((trx) => replayDeadLetters(trx, { ids: [a.id, b.id] }, 100))).toEqual([]);
    const pending = await database.db('outbox').where({ status: 'pending' });
    expect(pending).toHaveLength(1);
  });

  it('replays only what the filter selects, up to the limit, oldest first', async () => {
    const orders = [await deadLettered(), await deadLettered(), await deadLettered()];
    await deadLettered({ type: 'user.signed_up' });
    const replayed = await database.db.transaction((trx) => replayDeadLetters(trx, { type: 'order.*' }, 2));
    expect(replayed.map((r) => r.id)).toEqual([orders[0]?.id, orders[1]?.id]);
  });

  it('gives concurrent replays of the same selection disjoint rows', async () => {
    for (let i = 0; i < 6; i++) await deadLettered();
    const first = await database.db.transaction();
    const second = await database.db.transaction();
    try {
      const a = await replayDeadLetters(first, {}, 4);
      const b = await replayDeadLetters(second, {}, 4);
      expect(a).toHaveLength(4);
      expect(b).toHaveLength(2);
      expect(new Set([...a, ...b].map((r) => r.id)).size).toBe(6);
      await first.commit();
      await second.commit();
    } finally {
      if (!first.isCompleted()) await first.rollback();
      if (!second.isCompleted()) await second.rollback();
    }
    expect(await database.db('outbox').where({ status: 'pending' }).count({ n: '*' })).toEqual([{ n: 6 }]);
  });

  it('leaves nothing behind when its transaction rolls back', async () => {
    const dead = await deadLettered();
    await database.db
      .transaction(async (trx) => {
        await replayDeadLetters(trx, {}, 10);
        throw new Error('abort');
      })
      .catch(() => undefined);
    expect(await database.db('dead_letter_queue').where({ id: dead.id }).first()).toMatchObject({ status: 'dead' });
    expect(await database.db('outbox').where({ status: 'pending' })).toEqual([]);
  });
});

describe('discardDeadLetters', () => {
  it('marks matching dead letters discarded, after which they cannot be replayed', async () => {
    const a = await deadLettered({ destination: 'orders' });
    const b = await deadLettered({ destination: 'users' });
    const discarded = await database.db.transaction((trx) => discardDeadLetters(trx, { destination: 'orders' }, 100));
    expect(discarded).toEqual([{ id: a.id, eventId: a.eventId, destination: 'orders' }]);
    const row = await database.db('dead_letter_queue').where({ id: a.id }).first();
    expect(row.status).toBe('discarded');
    expect(row.discarded_at).toBeInstanceOf(Date);
    expect(await database.db.transaction((trx) => replayDeadLetters(trx, { ids: [a.id] }, 10))).toEqual([]);
    expect(await database.db('dead_letter_queue').where({ id: b.id }).first()).toMatchObject({ status: 'dead' });
    expect(await database.db.transaction((trx) => discardDeadLetters(trx, { ids: [a.id] }, 10))).toEqual([]);
  });
});

describe('outboxStats', () => {
  it('counts dead letters waiting and leaves rows in retry backoff out of the due age', async () => {
    await deadLettered();
    const replayedLater = await deadLettered();
    await database.db('dead_letter_queue').where({ id: replayedLater.id }).update({ status: 'replayed' });
    const ids = [uuidv7(), uuidv7(), uuidv7()];
    await insertEvents(
      database.db,
      ids.map((id) => ({
        id,
        source: 's',
        type: 't',
        schemaVersion: null,
        idempotencyKey: null,
        payload: {},
        headers: {},
        receivedAt: new Date(),
      })),
    );
    await insertOutboxRows(
      database.db,
      ids.map((eventId) => ({ eventId, broker: 'kafka', destination: 'd', routingKey: '', partitionKey: null })),
    );
    const [retrying, due, heldBack] = await database.db('outbox').whereIn('event_id', ids).orderBy('id');
    // Written an hour ago, tried, now in backoff for another 10 minutes: not due, so not counted.
    await database
      .db('outbox')
      .where({ id: retrying.id })
      .update({
        attempts: 3,
        created_at: database.db.raw(`now() - interval '1 hour'`),
        next_attempt_at: database.db.raw(`now() + interval '10 minutes'`),
      });
    // Written an hour ago, never tried, not due before 10 minutes from now: not counted either.
    await database
      .db('outbox')
      .where({ id: heldBack.id })
      .update({
        created_at: database.db.raw(`now() - interval '1 hour'`),
        next_attempt_at: database.db.raw(`now() + interval '10 minutes'`),
      });
    // Written two minutes ago and never tried: due all that time.
    await database
      .db('outbox')
      .where({ id: due.id })
      .update({ created_at: database.db.raw(`now() - interval '2 minutes'`) });

    const stats = await outboxStats(database.db);
    expect(stats.pending).toBe(3);
    expect(stats.dead).toBe(1);
    expect(stats.oldestPendingAgeSeconds).toBeGreaterThan(3_500);
    expect(stats.oldestDueAgeSeconds).toBeGreaterThan(115);
    expect(stats.oldestDueAgeSeconds).toBeLessThan(300);

    // Once its backoff is over the retried row counts from when it became due, not from its birth.
    await database
      .db('outbox')
      .where({ id: retrying.id })
      .update({ next_attempt_at: database.db.raw(`now() - interval '5 minutes'`) });
    expect(stats.brokers).toEqual([expect.objectContaining({ broker: 'kafka', pending: 3 })]);
    expect(stats.destinations).toEqual([expect.objectContaining({ broker: 'kafka', destination: 'd', pending: 3 })]);

    const later = await outboxStats(database.db);
    expect(later.oldestDueAgeSeconds).toBeGreaterThan(295);
    expect(later.oldestDueAgeSeconds).toBeLessThan(400);
  });

  it('reports zero ages when nothing is pending', async () => {
    expect(await outboxStats(database.db)).toEqual({
      pending: 0,
      oldestPendingAgeSeconds: 0,
      oldestDueAgeSeconds: 0,
      dead: 0,
      brokers: [],
      destinations: [],
    });
  });
});
