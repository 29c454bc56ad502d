import { createRegistry, relayMetrics } from '@orchestron/observability';
import { createTestDatabase, eventually, type TestDatabase } from '@orchestron/testing';
import { refreshBacklogGauges } from '../src/backlog-gauge';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('backlog_gauge');
});

afterAll(async () => {
  await database.drop();
});

describe('refreshBacklogGauges', () => {
  it('sets the backlog, age, due-age and dead-letter gauges from the database on its timer', async () => {
    await database.db.raw(
      `with e as (
         insert into events (id, source, type, payload) select gen_random_uuid(), 's', 't', '{}'::jsonb
         from generate_series(1, 5) returning id
       ), o as (
         insert into outbox (event_id, broker, destination, created_at, next_attempt_at)
         select id, 'kafka', 'd', now() - interval '90 seconds', now() - interval '90 seconds' from e
         returning id, event_id
       )
       insert into dead_letter_queue (outbox_id, event_id, broker, destination, error, attempts)
       select id, event_id, 'kafka', 'd', 'x', 4 from o limit 2`,
    );
    const registry = createRegistry('relay-test');
    const metrics = relayMetrics(registry);
    const stop = refreshBacklogGauges(database.db, metrics, 1_000);
    try {
      const value = async (name: string): Promise<number | undefined> =>
        (await registry.getSingleMetric(`orchestron_${name}`)?.get())?.values[0]?.value;
      await eventually(async () => (await value('outbox_pending')) === 5, {
        timeoutMs: 5_000,
        message: () => 'gauges not refreshed',
      });
      expect(await value('dead_letter_queue_size')).toBe(2);
      expect(await value('outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(89);
      expect(await value('outbox_oldest_due_age_seconds')).toBeGreaterThanOrEqual(89);
      expect(await value('outbox_oldest_due_age_seconds')).toBeLessThan(120);

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
});
