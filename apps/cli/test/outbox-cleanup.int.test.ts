import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { runCli } from './run-cli';

// `orchestron outbox cleanup`: one retention pass by hand, as a process against its own database.

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('cli_cleanup');
});

afterAll(async () => {
  await database.drop();
});

/** Events received `eventHours` ago, each with one outbox row published `publishedHours` ago. */
async function seed(count: number, eventHours: number, publishedHours: number | null): Promise<void> {
  await database.db.raw(
    `with e as (
       insert into events (id, source, type, payload, received_at)
       select gen_random_uuid(), 'shop', 'order.created', '{}'::jsonb, now() - make_interval(hours => ?)
       from generate_series(1, ?) returning id
     )
     insert into outbox (event_id, broker, destination, status, published_at)
     select id, 'kafka', 'orders', case when ?::int is null then 'pending' else 'published' end::outbox_status,
            now() - make_interval(hours => coalesce(?::int, 0))
     from e`,
    [eventHours, count, publishedHours, publishedHours],
  );
}

async function count(table: string, where: Record<string, unknown> = {}): Promise<number> {
  const [row] = await database.db(table).where(where).count({ n: '*' });
  return Number(row?.n);
}

describe('orchestron outbox cleanup', () => {
  it('deletes expired published rows and settled old events in batches, and reports how many', async () => {
    await seed(45, 200, 199); // both expired
    await seed(5, 30, 25); // outbox rows expired, events not yet
    await seed(3, 1, 1); // nothing expired
    await seed(4, 300, null); // old but still pending: kept whole

    const result = await runCli(['outbox', 'cleanup', '--json'], {
      DATABASE_URL: database.url,
      ORCHESTRON_RETENTION_BATCH_SIZE: '10',
      ORCHESTRON_RETENTION_BATCH_PAUSE: '0',
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({ outbox: 50, events: 45 });
    expect(await count('events')).toBe(5 + 3 + 4);
    expect(await count('outbox', { status: 'published' })).toBe(3);
    expect(await count('outbox', { status: 'pending' })).toBe(4);

    const again = await runCli(['outbox', 'cleanup'], {
      DATABASE_URL: database.url,
      ORCHESTRON_RETENTION_EVENTS: '0',
    });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      'published outbox rows deleted: 0 (older than 24h)\nevents: kept (retention.events is 0)\n',
    );
  });
});
