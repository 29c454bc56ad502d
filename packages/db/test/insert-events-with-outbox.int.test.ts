import { createTestDatabase, listenForOutboxNotices, type OutboxNotices, type TestDatabase } from '@orchestron/testing';
import { insertEvents, insertEventsWithOutbox, uuidv7, type NewEventWithOutbox } from '../src';

let database: TestDatabase;
let notices: OutboxNotices;

beforeAll(async () => {
  database = await createTestDatabase('insert_with_outbox');
  notices = await listenForOutboxNotices(database.url);
});

afterAll(async () => {
  await notices.close();
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events, dead_letter_queue cascade');
  await notices.takeWithin(0);
});

const exchange = (name: string) => ({ broker: 'rabbitmq', destination: name, routingKey: 'thing', partitionKey: null });

function newEvent(overrides: Partial<NewEventWithOutbox> = {}): NewEventWithOutbox {
  return {
    id: uuidv7(),
    source: 'test',
    type: 'thing.happened',
    schemaVersion: 1,
    idempotencyKey: null,
    payload: { n: 1 },
    headers: { 'content-type': 'application/json' },
    receivedAt: new Date(),
    outbox: [exchange('events')],
    ...overrides,
  };
}

async function outboxRows(): Promise<Array<{ event_id: string; destination: string }>> {
  return database.db('outbox').select('event_id', 'destination').orderBy('id');
}

describe('insertEventsWithOutbox', () => {
  it('stores the events and their outbox rows in event and destination order, and NOTIFYs only when asked', async () => {
    const a = newEvent({ outbox: [exchange('x1'), exchange('x2')] });
    const b = newEvent({ payload: null, outbox: [exchange('x3')] });
    const stored = await insertEventsWithOutbox(database.db, [a, b]);
    expect(stored).toEqual([
      { id: a.id, inserted: true },
      { id: b.id, inserted: true },
    ]);
    expect(await outboxRows()).toEqual([
      { event_id: a.id, destination: 'x1' },
      { event_id: a.id, destination: 'x2' },
      { event_id: b.id, destination: 'x3' },
    ]);
    const payloads = await database.db('events').select('id', 'payload').orderBy('id');
    expect(payloads).toEqual([
      { id: a.id, payload: { n: 1 } },
      { id: b.id, payload: null },
    ]);
    // Transactions that NOTIFY commit one at a time: ingest asks for it on few statements.
    expect(await notices.takeWithin(100)).toEqual([]);
  });

  it('NOTIFYs the relays at its commit when asked to, once per call, single events and lists alike', async () => {
    await insertEventsWithOutbox(database.db, [newEvent()], undefined, { notify: true });
    expect(await notices.takeWithin(100)).toEqual(['orchestron_outbox']);
    await insertEventsWithOutbox(database.db, [newEvent(), newEvent(), newEvent()], undefined, { notify: true });
    expect(await notices.takeWithin(100)).toEqual(['orchestron_outbox']);
    await insertEventsWithOutbox(database.db, [newEvent(), newEvent()], undefined, { notify: false });
    expect(await notices.takeWithin(100)).toEqual([]);
    expect(await outboxRows()).toHaveLength(6);
    // A re-delivery stores nothing and wakes no one.
    const again = newEvent({ idempotencyKey: 'once' });
    await insertEventsWithOutbox(database.db, [again], undefined, { notify: true });
    await notices.takeWithin(100);
    await insertEventsWithOutbox(database.db, [{ ...again, id: uuidv7() }], undefined, { notify: true });
    await insertEventsWithOutbox(
      database.db,
      [
        { ...again, id: uuidv7() },
        { ...again, id: uuidv7() },
      ],
      undefined,
      {
        notify: true,
      },
    );
    expect(await notices.takeWithin(100)).toEqual([]);
  });

  it('delivers its NOTIFY only if the transaction it joined commits', async () => {
    const trx = await database.db.transaction();
    await insertEventsWithOutbox(trx, [newEvent()], undefined, { notify: true });
    expect(await notices.takeWithin(100)).toEqual([]); // not before the commit
    await trx.rollback();
    expect(await notices.takeWithin(100)).toEqual([]);
    const committed = await database.db.transaction();
    await insertEventsWithOutbox(committed, [newEvent()], undefined, { notify: true });
    await committed.commit();
    expect(await notices.takeWithin(100)).toEqual(['orchestron_outbox']);
  });

  it('answers repeated idempotency keys, earlier and within the call, with the stored id and no new rows', async () => {
    const first = newEvent({ idempotencyKey: 'k1' });
    await insertEventsWithOutbox(database.db, [first]);
    const k2 = newEvent({ idempotencyKey: 'k2' });
    const stored = await insertEventsWithOutbox(database.db, [
      newEvent({ idempotencyKey: 'k1' }),
      k2,
      newEvent({ idempotencyKey: 'k2' }),
      newEvent({ idempotencyKey: 'k1', source: 'other' }),
    ]);
    expect(stored.slice(0, 3)).toEqual([
      { id: first.id, inserted: false },
      { id: k2.id, inserted: true },
      { id: k2.id, inserted: false },
    ]);
    expect(stored[3]?.inserted).toBe(true);
    expect((await outboxRows()).map((r) => r.event_id)).toEqual([first.id, k2.id, stored[3]?.id]);
  });

  it('stores a payload from the given JSON text by its path, as the sender wrote it, JSON null included', async () => {
    const document = '[{"data": {"amount": 12345678901234567890.10, "b": [1, 2]}}, {"data": null}]';
    const a = newEvent({ payload: 'not this', payloadPath: ['0', 'data'] });
    const b = newEvent({ payload: 'nor this', payloadPath: ['1', 'data'] });
    const c = newEvent({ payload: { n: 3 } }); // no path: its payload as given
    await insertEventsWithOutbox(database.db, [a, b, c], document);
    const rows = await database.db.raw<{ rows: Array<{ id: string; payload: string | null; is_null: boolean }> }>(
      'select id, payload::text, payload is null as is_null from events order by id',
    );
    expect(rows.rows).toEqual([
      // Not parsed and serialised by Node: every digit of the number is kept.
      { id: a.id, payload: '{"b": [1, 2], "amount": 12345678901234567890.10}', is_null: false },
      { id: b.id, payload: 'null', is_null: false },
      { id: c.id, payload: '{"n": 3}', is_null: false },
    ]);
  });

  it('ignores a payload path without a document', async () => {
    const a = newEvent({ payload: { n: 1 }, payloadPath: ['data'] });
    await insertEventsWithOutbox(database.db, [a]);
    expect((await database.db('events').where({ id: a.id }).first()).payload).toEqual({ n: 1 });
  });

  it("joins the caller's transaction: rolled back, it leaves nothing", async () => {
    const trx = await database.db.transaction();
    const stored = await insertEventsWithOutbox(trx, [newEvent()]);
    expect(stored[0]?.inserted).toBe(true);
    expect(await trx('events').count({ n: '*' })).toEqual([{ n: 1 }]);
    await trx.rollback();
    expect(await database.db('events').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(await outboxRows()).toEqual([]);
  });

  it('finds the id a concurrent writer committed while this statement waited on the unique key', async () => {
    const trx = await database.db.transaction();
    const theirs = newEvent({ idempotencyKey: 'race' });
    await insertEvents(trx, [theirs]);
    const mine = insertEventsWithOutbox(database.db, [newEvent({ idempotencyKey: 'race' })]);
    // Let the statement reach the unique index and wait there for the other transaction.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await trx.commit();
    expect(await mine).toEqual([{ id: theirs.id, inserted: false }]);
    expect(await outboxRows()).toEqual([]);
  });

  it('stores an encrypted payload instead of the clear one', async () => {
    const event = newEvent({
      encryptedPayload: { keyId: 'k-1', data: Buffer.from([1, 2, 3, 250]) },
      payloadPath: ['data'], // never the clear text from the document
    });
    await insertEventsWithOutbox(database.db, [event], '{"data": {"secret": 1}}');
    const [row] = await database.db('events').select('payload', 'payload_encrypted', 'encryption_key_id');
    expect(row).toEqual({ payload: null, payload_encrypted: Buffer.from([1, 2, 3, 250]), encryption_key_id: 'k-1' });
  });

  it('writes nothing at all when any row fails', async () => {
    const a = newEvent();
    await expect(insertEventsWithOutbox(database.db, [a, newEvent({ id: a.id })])).rejects.toThrow();
    expect(Number((await database.db('events').count({ n: '*' }))[0]?.n)).toBe(0);
    expect(await outboxRows()).toEqual([]);
  });
});
