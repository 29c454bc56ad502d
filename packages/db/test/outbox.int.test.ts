import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import {
  claimDueBatch,
  deadLetter,
  insertEvents,
  insertOutboxRows,
  markPublished,
  outboxStats,
  scheduleRetries,
  uuidv7,
  type NewEvent,
} from '../src';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('outbox');
});

afterAll(async () => {
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events, dead_letter_queue cascade');
});

function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    id: uuidv7(),
    source: 'test',
    type: 'thing.happened',
    schemaVersion: 1,
    idempotencyKey: null,
    payload: { n: 1 },
    headers: { 'content-type': 'application/json' },
    receivedAt: new Date(),
    ...overrides,
  };
}

async function seed(count: number, broker = 'rabbitmq'): Promise<string[]> {
  const events = Array.from({ length: count }, (_, i) => newEvent({ payload: { n: i } }));
  await insertEvents(database.db, events);
  await insertOutboxRows(
    database.db,
    events.map((e) => ({ eventId: e.id, broker, destination: 'events', routingKey: e.type, partitionKey: null })),
  );
  return events.map((e) => e.id);
}

describe('insertEvents', () => {
  it('stores a repeated idempotency key once, also within one call, and reports the stored id', async () => {
    const first = newEvent({ idempotencyKey: 'k1' });
    const [stored] = await insertEvents(database.db, [first]);
    expect(stored).toEqual({ id: first.id, inserted: true });
    const again = await insertEvents(database.db, [
      newEvent({ idempotencyKey: 'k1' }),
      newEvent({ idempotencyKey: 'k2' }),
      newEvent({ idempotencyKey: 'k2' }),
    ]);
    expect(again[0]).toEqual({ id: first.id, inserted: false });
    expect(again[1]?.inserted).toBe(true);
    expect(again[2]).toEqual({ id: again[1]?.id, inserted: false });
    const [row] = (await database.db('events').count({ n: '*' })) as Array<{ n: string }>;
    expect(Number(row?.n)).toBe(2);
  });

  it('stores a JSON null payload as JSON null', async () => {
    const [stored] = await insertEvents(database.db, [newEvent({ payload: null })]);
    const row = await database
      .db('events')
      .where({ id: stored?.id })
      .select(database.db.raw("payload = 'null'::jsonb as is_null"))
      .first();
    expect(row.is_null).toBe(true);
  });

  it('stores an encrypted payload instead of the clear one', async () => {
    const event = newEvent({
      payload: { secret: 'x' },
      encryptedPayload: { keyId: 'k1', data: Buffer.from('opaque') },
    });
    await insertEvents(database.db, [event]);
    const row = await database.db('events').where({ id: event.id }).first();
    expect(row).toMatchObject({ payload: null, encryption_key_id: 'k1' });
    expect(row.payload_encrypted.toString()).toBe('opaque');
  });

  it('treats the same key from another source as another event', async () => {
    const a = await insertEvents(database.db, [newEvent({ idempotencyKey: 'k', source: 'a' })]);
    const b = await insertEvents(database.db, [newEvent({ idempotencyKey: 'k', source: 'b' })]);
    expect(a[0]?.inserted && b[0]?.inserted).toBe(true);
  });
});

describe('claimDueBatch', () => {
  it('gives concurrent claimers disjoint rows (SKIP LOCKED) and only for their broker', async () => {
    await seed(10);
    await seed(3, 'kafka');
    const trxA = await database.db.transaction();
    const trxB = await database.db.transaction();
    try {
      const a = await claimDueBatch(trxA, { limit: 6, brokers: ['rabbitmq'] });
      const b = await claimDueBatch(trxB, { limit: 6, brokers: ['rabbitmq'] });
      expect(a).toHaveLength(6);
      expect(b).toHaveLength(4);
      const ids = new Set([...a, ...b].map((r) => r.id));
      expect(ids.size).toBe(10);
      expect([...a, ...b].every((r) => r.broker === 'rabbitmq')).toBe(true);
      expect(a[0]?.payload).toBe('{"n": 0}');
    } finally {
      await trxA.rollback();
      await trxB.rollback();
    }
  });

  it('makes rows due again when the claiming transaction ends without settling them', async () => {
    await seed(2);
    const trx = await database.db.transaction();
    expect(await claimDueBatch(trx, { limit: 10, brokers: ['rabbitmq'] })).toHaveLength(2);
    await trx.rollback();
    const again = await database.db.transaction(async (t) => claimDueBatch(t, { limit: 10, brokers: ['rabbitmq'] }));
    expect(again).toHaveLength(2);
    expect(again.every((r) => r.attempts === 0)).toBe(true);
  });
});

describe('settling a batch', () => {
  it('marks published rows, backs off retried ones and dead-letters the rest in one transaction', async () => {
    await seed(3);
    await database.db.transaction(async (trx) => {
      const [a, b, c] = await claimDueBatch(trx, { limit: 3, brokers: ['rabbitmq'] });
      await markPublished(trx, [a!.id]);
      await scheduleRetries(trx, [{ id: b!.id, error: 'rejected: too large' }], {
        baseDelayMs: 60_000,
        maxDelayMs: 600_000,
      });
      await deadLetter(trx, [{ id: c!.id, error: 'unroutable' }]);
    });
    const rows = await database.db('outbox').orderBy('id');
    expect(rows.map((r: { status: string }) => r.status)).toEqual(['published', 'pending', 'dead']);
    expect(rows[0].published_at).toBeInstanceOf(Date);
    expect(rows[1]).toMatchObject({ attempts: 1, last_error: 'rejected: too large' });
    const delayMs = rows[1].next_attempt_at.getTime() - Date.now();
    expect(delayMs).toBeGreaterThan(25_000);
    expect(delayMs).toBeLessThanOrEqual(60_000);
    const dead = await database.db('dead_letter_queue');
    expect(dead).toEqual([
      expect.objectContaining({
        outbox_id: rows[2].id,
        event_id: rows[2].event_id,
        error: 'unroutable',
        attempts: 1,
        status: 'dead',
      }),
    ]);
    // Nothing is due now: the retry waits for its backoff, the others are settled.
    const due = await database.db.transaction((t) => claimDueBatch(t, { limit: 10, brokers: ['rabbitmq'] }));
    expect(due).toEqual([]);
    expect(await outboxStats(database.db)).toMatchObject({ pending: 1, dead: 1 });
  });

  it('caps the retry delay at the maximum', async () => {
    await seed(1);
    await database.db('outbox').update({ attempts: 30 });
    await database.db.transaction(async (trx) => {
      const [row] = await claimDueBatch(trx, { limit: 1, brokers: ['rabbitmq'] });
      await scheduleRetries(trx, [{ id: row!.id, error: 'x' }], { baseDelayMs: 1_000, maxDelayMs: 10_000 });
    });
    const [row] = await database.db('outbox');
    expect(row.next_attempt_at.getTime() - Date.now()).toBeLessThanOrEqual(10_000);
  });
});
