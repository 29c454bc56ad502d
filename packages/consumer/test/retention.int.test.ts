import { Registry } from 'prom-client';
import { silentLogger } from '../src/logger';
import { createConsumerMetrics } from '../src/metrics';
import { RetentionLoop } from '../src/retention';
import { consumerDatabase, metricValue, type ConsumerDatabase } from './harness';

describe('inbox retention', () => {
  let database: ConsumerDatabase;

  beforeAll(async () => {
    database = await consumerDatabase('consumer_retention');
  });

  afterAll(async () => {
    await database.close();
  });

  it('deletes inbox rows and key positions older than their retention, in batches, and keeps the rest', async () => {
    await database.pool.query(`
      insert into orchestron_inbox (consumer, event_id, source, type, recorded_at)
        select 'c', 'old-' || g, 's', 't', now() - interval '15 days' from generate_series(1, 25) g;
      insert into orchestron_inbox (consumer, event_id, source, type) values ('c', 'recent', 's', 't');
      insert into orchestron_consumer_key_positions (consumer, partition_key, last_event_id, updated_at)
        values ('c', 'quiet', 'x', now() - interval '40 days'), ('c', 'busy', 'y', now());`);
    const registry = new Registry();
    const loop = new RetentionLoop(
      database.pool,
      'c',
      { inboxMs: 14 * 86_400_000, keyPositionsMs: 30 * 86_400_000, batchSize: 10 },
      createConsumerMetrics(registry),
      silentLogger,
    );
    await loop.runOnce();

    const inbox = await database.pool.query('select event_id from orchestron_inbox');
    expect(inbox.rows).toEqual([{ event_id: 'recent' }]);
    const keys = await database.pool.query('select partition_key from orchestron_consumer_key_positions');
    expect(keys.rows).toEqual([{ partition_key: 'busy' }]);
    expect(
      await metricValue(registry, 'orchestron_consumer_retention_deleted_total', { consumer: 'c', table: 'inbox' }),
    ).toBe(25);
    expect(
      await metricValue(registry, 'orchestron_consumer_retention_deleted_total', {
        consumer: 'c',
        table: 'key_positions',
      }),
    ).toBe(1);
  });

  it('keeps everything with a retention of 0', async () => {
    await database.pool.query(
      `insert into orchestron_inbox (consumer, event_id, source, type, recorded_at) values ('d', 'ancient', 's', 't', now() - interval '1 year')`,
    );
    const loop = new RetentionLoop(
      database.pool,
      'd',
      { inboxMs: 0, keyPositionsMs: 0 },
      createConsumerMetrics(new Registry()),
      silentLogger,
    );
    await loop.runOnce();
    const { rows } = await database.pool.query(`select count(*)::int as n from orchestron_inbox where consumer = 'd'`);
    expect(rows[0].n).toBe(1);
  });
});
