import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { storeEvents, type EventToStore } from '../src/store-events';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('notify_queue_full');
  // Postgres refuses NOTIFY with SQLSTATE 54000 when its notification queue is full (a listener
  // that stopped reading). Filling the real queue takes gigabytes; a pg_notify found before
  // pg_catalog's on the search path refuses the same way. Set before the pool connects.
  const setup = new Client({ connectionString: database.url });
  await setup.connect();
  try {
    await setup.query('create schema full_queue');
    await setup.query(`create function full_queue.pg_notify(channel text, payload text) returns void
      language plpgsql as $$ begin
        raise exception 'too many notifications in the NOTIFY queue' using errcode = '54000';
      end $$`);
    await setup.query(`alter database ${database.name} set search_path = full_queue, public, pg_catalog`);
  } finally {
    await setup.end();
  }
});

afterAll(async () => {
  await database.drop();
});

const event = (data: unknown = { n: 1 }): EventToStore => ({
  source: 'test',
  type: 'thing.happened',
  schemaVersion: 1,
  idempotencyKey: null,
  data,
  headers: { 'content-type': 'application/json' },
  destinations: [{ broker: 'rabbitmq', destination: 'events', routingKey: 'thing', partitionKey: null }],
});

async function counts(): Promise<{ events: number; outbox: number }> {
  const [events] = await database.db('events').count({ n: '*' });
  const [outbox] = await database.db('outbox').count({ n: '*' });
  return { events: Number(events?.n), outbox: Number(outbox?.n) };
}

describe('storeEvents when Postgres refuses the NOTIFY', () => {
  beforeEach(async () => {
    await database.db.raw('truncate events cascade');
  });

  it('stores the events without it: a wakeup is a hint, the events are not', async () => {
    const single = await storeEvents(database.db, [event()], null, undefined, true);
    expect(single.notified).toBe(false);
    expect(single.stored).toEqual([{ id: expect.any(String), inserted: true }]);
    const batch = await storeEvents(database.db, [event(), event()], null, undefined, true);
    expect(batch.notified).toBe(false);
    expect(batch.stored.map((s) => s.inserted)).toEqual([true, true]);
    expect(await counts()).toEqual({ events: 3, outbox: 3 });
  });

  it('passes on any other failure of the statement, storing nothing', async () => {
    // Text Postgres cannot store (22P05), refused with or without the NOTIFY.
    await expect(storeEvents(database.db, [event({ text: 'a\u0000b' })], null, undefined, true)).rejects.toMatchObject({
      code: '22P05',
    });
    expect(await counts()).toEqual({ events: 0, outbox: 0 });
  });
});
