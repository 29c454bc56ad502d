import { createRegistry, relayMetrics, type RelayMetrics } from '@orchestron/observability';
import { createTestDatabase, eventually, type TestDatabase } from '@orchestron/testing';
import type { CleanupLoop } from '../src/cleanup-loop';
import { startRetentionCleanup } from '../src/retention-cleanup';

let database: TestDatabase;
const loops: CleanupLoop[] = [];
const logger = { info: jest.fn(), warn: jest.fn() };
const HOUR = 3_600_000;
const retention = {
  published_outbox: 24 * HOUR,
  events: 168 * HOUR,
  batch_size: 100,
  batch_pause: 5,
  interval: 20,
};

beforeAll(async () => {
  database = await createTestDatabase('retention_cleanup');
});

afterAll(async () => {
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events, dead_letter_queue cascade');
  logger.warn.mockReset();
});

afterEach(async () => {
  await Promise.all(loops.splice(0).map((loop) => loop.stop()));
});

/** `count` events received `eventAgeHours` ago, each with one outbox row published `publishedAgeHours` ago. */
async function seedPublished(count: number, eventAgeHours: number, publishedAgeHours: number): Promise<void> {
  await database.db.raw(
    `with e as (
       insert into events (id, source, type, payload, received_at)
       select gen_random_uuid(), 'shop', 'order.created', '{}'::jsonb, now() - make_interval(hours => ?)
       from generate_series(1, ?)
       returning id
     )
     insert into outbox (event_id, broker, destination, status, published_at)
     select id, 'kafka', 'orders', 'published', now() - make_interval(hours => ?) from e`,
    [eventAgeHours, count, publishedAgeHours],
  );
}

async function count(table: string): Promise<number> {
  const [row] = await database.db(table).count({ n: '*' });
  return Number(row?.n);
}

async function deletedCounter(metrics: RelayMetrics, table: string): Promise<number> {
  const metric = await metrics.retentionDeleted.get();
  return metric.values.find((v) => v.labels.table === table)?.value ?? 0;
}

describe('startRetentionCleanup', () => {
  it('deletes expired published outbox rows and old settled events on its timer, and counts them', async () => {
    await seedPublished(250, 200, 199); // both expired
    await seedPublished(30, 48, 30); // outbox rows expired, events kept
    await seedPublished(20, 1, 1); // both kept
    const metrics = relayMetrics(createRegistry('relay-test'));
    const loop = startRetentionCleanup(database.db, retention, metrics, logger);
    expect(loop).not.toBeNull();
    loops.push(loop as CleanupLoop);

    await eventually(async () => (await count('events')) === 50 && (await count('outbox')) === 20, {
      timeoutMs: 10_000,
      message: () => 'retention did not delete the expired rows',
    });
    expect(await deletedCounter(metrics, 'outbox')).toBe(280);
    expect(await deletedCounter(metrics, 'events')).toBe(250);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('lets several replicas clean up at once: every row deleted once, nobody fails', async () => {
    await seedPublished(3_000, 200, 199);
    const metrics = [1, 2, 3].map(() => relayMetrics(createRegistry('relay-test')));
    for (const m of metrics) {
      const loop = startRetentionCleanup(database.db, { ...retention, published_outbox: 0 }, m, logger);
      loops.push(loop as CleanupLoop);
    }
    await eventually(async () => (await count('events')) === 0, {
      timeoutMs: 20_000,
      message: () => 'events not deleted',
    });
    const perReplica = await Promise.all(metrics.map((m) => deletedCounter(m, 'events')));
    expect(perReplica.reduce((a, b) => a + b, 0)).toBe(3_000);
    expect(await count('outbox')).toBe(0);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('is off when the interval or both retentions are 0', () => {
    const metrics = relayMetrics(createRegistry('relay-test'));
    expect(startRetentionCleanup(database.db, { ...retention, interval: 0 }, metrics, logger)).toBeNull();
    expect(
      startRetentionCleanup(database.db, { ...retention, published_outbox: 0, events: 0 }, metrics, logger),
    ).toBeNull();
  });
});
