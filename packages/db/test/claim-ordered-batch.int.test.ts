import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import type { Knex } from 'knex';
import {
  claimOrderedBatch,
  deadLetter,
  insertEvents,
  insertOutboxRows,
  markPublished,
  scheduleRetries,
  uuidv7,
  type ClaimedRow,
  type DeadLetterPolicy,
  type NewOutboxRow,
} from '../src';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('claim_ordered');
});

afterAll(async () => {
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events, dead_letter_queue cascade');
});

/** A row to seed: its label travels in the payload so claims can be read as labels. */
interface Seed {
  label: string;
  key: string | null;
  destination?: string;
  broker?: string;
}

/** Seeds one event and one outbox row per entry, outbox ids in the given order. */
async function seed(rows: Seed[]): Promise<Map<string, number>> {
  const events = rows.map((r) => ({
    id: uuidv7(),
    source: 'test',
    type: 'thing.happened',
    schemaVersion: 1,
    idempotencyKey: null,
    payload: { label: r.label },
    headers: {},
    receivedAt: new Date(),
  }));
  await insertEvents(database.db, events);
  const outbox: NewOutboxRow[] = rows.map((r, i) => ({
    eventId: events[i]!.id,
    broker: r.broker ?? 'rabbitmq',
    destination: r.destination ?? 'events',
    routingKey: 'thing.happened',
    partitionKey: r.key,
  }));
  await insertOutboxRows(database.db, outbox);
  const stored = (await database.db('outbox').orderBy('id').select('id')) as Array<{ id: number }>;
  return new Map(rows.map((r, i) => [r.label, Number(stored[i]!.id)]));
}

const labels = (rows: ClaimedRow[]): string[] =>
  rows.map((r) => (JSON.parse(r.payload ?? '{}') as { label: string }).label);

function claim(trx: Knex.Transaction | Knex, policy: DeadLetterPolicy = 'skip', limit = 100): Promise<ClaimedRow[]> {
  return claimOrderedBatch(trx, { limit, brokers: ['rabbitmq'], deadLetterPolicy: policy });
}

/** Claims in a transaction of its own that commits without settling anything. */
function claimAndRelease(policy: DeadLetterPolicy = 'skip'): Promise<string[]> {
  return database.db.transaction(async (trx) => labels(await claim(trx, policy)));
}

describe('claimOrderedBatch', () => {
  it('claims only the head of each key, in outbox id order, and rows without a key freely', async () => {
    await seed([
      { label: 'a1', key: 'A' },
      { label: 'b1', key: 'B' },
      { label: 'n1', key: null },
      { label: 'a2', key: 'A' },
      { label: 'n2', key: null },
      { label: 'b2', key: 'B' },
      { label: 'a3', key: 'A' },
    ]);
    expect(await claimAndRelease()).toEqual(['a1', 'b1', 'n1', 'n2']);
  });

  it('treats the same partition key on another destination or broker as another key', async () => {
    await seed([
      { label: 'x1', key: 'K', destination: 'orders' },
      { label: 'y1', key: 'K', destination: 'invoices' },
      { label: 'x2', key: 'K', destination: 'orders' },
      { label: 'k1', key: 'K', broker: 'kafka' },
      { label: 'y2', key: 'K', destination: 'invoices' },
    ]);
    const rows = await database.db.transaction((trx) =>
      claimOrderedBatch(trx, { limit: 10, brokers: ['rabbitmq', 'kafka'], deadLetterPolicy: 'skip' }),
    );
    expect(labels(rows)).toEqual(['x1', 'y1', 'k1']);
  });

  it("holds a key's next row while another transaction has its earlier row claimed, and releases it on publish", async () => {
    await seed([
      { label: 'a1', key: 'A' },
      { label: 'b1', key: 'B' },
      { label: 'a2', key: 'A' },
      { label: 'b2', key: 'B' },
    ]);
    const first = await database.db.transaction();
    const second = await database.db.transaction();
    try {
      const a1 = await claim(first, 'skip', 1);
      expect(labels(a1)).toEqual(['a1']);
      // a1 is locked, not published: a2 must wait behind it; b1 is free.
      expect(labels(await claim(second))).toEqual(['b1']);
      await markPublished(first, [a1[0]!.id]);
      await first.commit();
      // b1 is still held by `second`, so only A moves on.
      expect(await claimAndRelease()).toEqual(['a2']);
    } finally {
      if (!first.isCompleted()) await first.rollback();
      await second.rollback();
    }
  });

  it('makes the head claimable again when the claiming transaction dies, and its successor still waits', async () => {
    await seed([
      { label: 'a1', key: 'A' },
      { label: 'a2', key: 'A' },
    ]);
    const crashed = await database.db.transaction();
    try {
      expect(labels(await claim(crashed))).toEqual(['a1']);
    } finally {
      await crashed.rollback();
    }
    expect(await claimAndRelease()).toEqual(['a1']);
  });

  it('keeps a key blocked while its head waits out a retry backoff, without holding up other keys', async () => {
    const ids = await seed([
      { label: 'a1', key: 'A' },
      { label: 'b1', key: 'B' },
      { label: 'a2', key: 'A' },
    ]);
    await database.db.transaction((trx) =>
      scheduleRetries(trx, [{ id: ids.get('a1')!, error: 'unroutable' }], { baseDelayMs: 60_000, maxDelayMs: 60_000 }),
    );
    expect(await claimAndRelease()).toEqual(['b1']);
  });

  it('lets later rows of a key pass a dead letter with policy skip', async () => {
    const ids = await seed([
      { label: 'a1', key: 'A' },
      { label: 'a2', key: 'A' },
    ]);
    await database.db.transaction((trx) => deadLetter(trx, [{ id: ids.get('a1')!, error: 'too large' }]));
    expect(await claimAndRelease('skip')).toEqual(['a2']);
  });

  it('holds later rows of a key behind a dead letter with policy block until it is discarded or replayed', async () => {
    const ids = await seed([
      { label: 'a1', key: 'A' },
      { label: 'a2', key: 'A' },
      { label: 'b1', key: 'B' },
      { label: 'b2', key: 'B' },
      { label: 'b3', key: 'B' },
      { label: 'c1', key: 'C' },
    ]);
    await database.db.transaction(async (trx) => {
      await markPublished(trx, [ids.get('b1')!]);
      await deadLetter(trx, [
        { id: ids.get('a1')!, error: 'too large' },
        { id: ids.get('b2')!, error: 'too large' },
      ]);
    });
    expect(await claimAndRelease('block')).toEqual(['c1']);

    await database
      .db('dead_letter_queue')
      .where({ outbox_id: ids.get('a1') })
      .update({ status: 'discarded' });
    expect(await claimAndRelease('block')).toEqual(['a2', 'c1']);

    await database
      .db('dead_letter_queue')
      .where({ outbox_id: ids.get('b2') })
      .update({ status: 'replayed' });
    expect(await claimAndRelease('block')).toEqual(['a2', 'b3', 'c1']);
  });

  it('finds heads and unkeyed rows behind a front of waiting rows larger than its first window', async () => {
    const ids = await seed([
      { label: 'a1', key: 'A' },
      { label: 'a2', key: 'A' },
      { label: 'a3', key: 'A' },
      { label: 'a4', key: 'A' },
      { label: 'b1', key: 'B' },
      { label: 'n1', key: null },
      { label: 'c1', key: 'C' },
      { label: 'c2', key: 'C' },
    ]);
    await database.db.transaction((trx) =>
      scheduleRetries(trx, [{ id: ids.get('a1')!, error: 'unroutable' }], { baseDelayMs: 60_000, maxDelayMs: 60_000 }),
    );
    // The first pass sees only a2 and a3, both waiting behind a1.
    const rows = await database.db.transaction((trx) =>
      claimOrderedBatch(trx, { limit: 10, brokers: ['rabbitmq'], deadLetterPolicy: 'skip', window: 2 }),
    );
    expect(labels(rows)).toEqual(['b1', 'n1', 'c1']);
  });

  it('fills a batch from both passes without claiming a row twice, and stops at the limit', async () => {
    await seed([
      { label: 'a1', key: 'A' },
      { label: 'b1', key: 'B' },
      { label: 'c1', key: 'C' },
      { label: 'n1', key: null },
      { label: 'd1', key: 'D' },
    ]);
    const rows = await database.db.transaction((trx) =>
      claimOrderedBatch(trx, { limit: 4, brokers: ['rabbitmq'], deadLetterPolicy: 'skip', window: 2 }),
    );
    expect(labels(rows)).toEqual(['a1', 'b1', 'c1', 'n1']);
  });

  it('has an index that answers the earlier-pending-row check of a key', async () => {
    await seed(Array.from({ length: 50 }, (_, i) => ({ label: `r${i}`, key: `k${i % 5}` })));
    const plan = await database.db.transaction(async (trx) => {
      // Tiny tables are cheaper to scan; forbid that to see whether the index can serve.
      await trx.raw('set local enable_seqscan = off');
      return (await trx.raw(
        `explain select 1 from outbox earlier
         where earlier.status = 'pending' and earlier.partition_key is not null
           and earlier.broker = 'rabbitmq' and earlier.destination = 'events'
           and earlier.partition_key = 'k1' and earlier.id < 40`,
      )) as { rows: Array<{ 'QUERY PLAN': string }> };
    });
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('outbox_pending_key_idx');
  });
});
