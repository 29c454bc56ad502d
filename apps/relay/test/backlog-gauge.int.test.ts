import { createRegistry, relayMetrics } from '@orchestron/observability';
import { createTestDatabase, eventually, type TestDatabase } from '@orchestron/testing';
import { refreshBacklogGauges, UNSERVED_WARNING_INTERVAL_MS } from '../src/backlog-gauge';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('backlog_gauge');
});

afterAll(async () => {
  await database.drop();
});

async function seed(broker: string, count: number, ageSeconds: number): Promise<void> {
  await database.db.raw(
    `with e as (
       insert into events (id, source, type, payload) select gen_random_uuid(), 's', 't', '{}'::jsonb
       from generate_series(1, ?::int) returning id
     )
     insert into outbox (event_id, broker, destination, created_at, next_attempt_at)
     select id, ?, 'd', now() - make_interval(secs => ?), now() - make_interval(secs => ?) from e`,
    [count, broker, ageSeconds, ageSeconds],
  );
}

interface Warning {
  message: string;
  fields?: Record<string, unknown>;
}

describe('refreshBacklogGauges', () => {
  afterEach(async () => {
    await database.db.raw('truncate events cascade');
  });

  it('sets the backlog, age and due-age gauges per broker and the dead-letter gauge on its timer', async () => {
    await seed('kafka', 5, 90);
    await database.db.raw(
      `insert into dead_letter_queue (outbox_id, event_id, broker, destination, error, attempts)
       select id, event_id, 'kafka', 'd', 'x', 4 from outbox limit 2`,
    );
    const registry = createRegistry('relay-test');
    const metrics = relayMetrics(registry);
    const stop = refreshBacklogGauges(database.db, metrics, 1_000, { served: ['kafka'], logger: { warn: () => {} } });
    try {
      const value = async (name: string, broker?: string): Promise<number | undefined> =>
        (await registry.getSingleMetric(`orchestron_${name}`)?.get())?.values.find(
          (v) => broker === undefined || v.labels.broker === broker,
        )?.value;
      await eventually(async () => (await value('outbox_pending', 'kafka')) === 5, {
        timeoutMs: 5_000,
        message: () => 'gauges not refreshed',
      });
      expect(await value('dead_letter_queue_size')).toBe(2);
      expect(await value('outbox_oldest_pending_age_seconds', 'kafka')).toBeGreaterThanOrEqual(89);
      expect(await value('outbox_oldest_due_age_seconds', 'kafka')).toBeGreaterThanOrEqual(89);
      expect(await value('outbox_oldest_due_age_seconds', 'kafka')).toBeLessThan(120);
      // A known broker with nothing pending has its series at 0.
      expect(await value('outbox_pending', 'rabbitmq')).toBe(0);

      // The next refresh picks up changes.
      await database.db('dead_letter_queue').update({ status: 'discarded' });
      await eventually(async () => (await value('dead_letter_queue_size')) === 0, {
        timeoutMs: 5_000,
        message: () => 'dead-letter gauge not refreshed',
      });
    } finally {
      stop();
    }
  });

  it('counts rows of a broker it does not serve, says which it serves, and warns at most once per interval', async () => {
    await seed('kafka', 3, 30);
    await seed('rabbitmq', 1, 5);
    const registry = createRegistry('relay-test');
    const metrics = relayMetrics(registry);
    const warnings: Warning[] = [];
    let clock = 1_000_000;
    const stop = refreshBacklogGauges(database.db, metrics, 1_000, {
      served: ['rabbitmq'],
      logger: { warn: (message, fields) => warnings.push({ message, fields }) },
      now: () => clock,
    });
    try {
      const text = async (): Promise<string> => registry.metrics();
      await eventually(
        async () => (await text()).includes('orchestron_outbox_pending{broker="kafka",service="relay-test"} 3'),
        {
          timeoutMs: 5_000,
          message: () => 'kafka backlog not reported',
        },
      );
      const scrape = await text();
      expect(scrape).toContain('orchestron_outbox_pending{broker="rabbitmq",service="relay-test"} 1');
      expect(scrape).toContain('orchestron_relay_serves_broker{broker="rabbitmq",service="relay-test"} 1');
      expect(scrape).toContain('orchestron_relay_serves_broker{broker="kafka",service="relay-test"} 0');
      expect(warnings).toEqual([
        {
          message: expect.stringContaining('does not serve') as string,
          fields: expect.objectContaining({ broker: 'kafka', pending: 3 }) as object,
        },
      ]);

      // Later refreshes within the interval stay quiet; after it, the warning comes again.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(warnings).toHaveLength(1);
      clock += UNSERVED_WARNING_INTERVAL_MS;
      await eventually(() => warnings.length === 2, { timeoutMs: 5_000, message: () => 'no second warning' });
    } finally {
      stop();
    }
  });
});
