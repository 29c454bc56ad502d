import { createTestDatabase, eventually, seedPublishedEvents, type TestDatabase } from '@orchestron/testing';
import type { ReplayBatchResult, ReplayRecord } from '@orchestron/db';
import {
  createReplayStore,
  getReplay,
  cancelVisibleReplay,
  parseReplayRequest,
  ReplayConfirmationError,
  ReplayRunner,
  requestReplay,
  type ReplayActor,
  type ReplayRunnerOptions,
} from '../src';

// The replay engine against the real Postgres: requests, the runner's batches, its lease,
// cursor and pacing, observed in the replays and outbox tables.

let database: TestDatabase;
const runners: ReplayRunner[] = [];
const operator: ReplayActor = { name: 'ops', scope: { sources: ['*'], types: ['*'] } };
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  database = await createTestDatabase('replay_runner');
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop(10_000)));
  await database.db.raw('truncate events, replays cascade');
});

afterAll(async () => {
  await database.drop();
});

function runner(options: Partial<ReplayRunnerOptions> = {}): ReplayRunner {
  const created = new ReplayRunner({
    store: createReplayStore(database.db),
    logger: quiet,
    batchSize: 100,
    concurrency: 1,
    pollInterval: 50,
    lease: 30_000,
    // No relay publishes here: the replayed rows stay pending, so this bound must not hold a replay back.
    maxPending: 1_000_000,
    ...options,
  });
  runners.push(created);
  created.start();
  return created;
}

async function start(body: Record<string, unknown>, actor: ReplayActor = operator): Promise<ReplayRecord> {
  const request = parseReplayRequest(body, { maxRateLimit: 100_000 });
  const result = await requestReplay(database.db, request, actor, { defaultRateLimit: 100_000 });
  if (result.dryRun) throw new Error('expected a replay, got a dry run');
  return result.replay;
}

async function finished(id: string, timeoutMs = 30_000): Promise<ReplayRecord> {
  let replay = await getReplay(database.db, id, operator);
  await eventually(
    async () => {
      replay = await getReplay(database.db, id, operator);
      return !['queued', 'running'].includes(replay.status);
    },
    { timeoutMs, message: () => `replay ${id} did not finish: ${JSON.stringify(replay)}` },
  );
  return replay;
}

/** The outbox rows a replay made: event id -> copies. */
async function replayedCopies(replayId: string): Promise<Map<string, number>> {
  const rows = (await database.db('outbox').where({ replay_id: replayId }).select('event_id')) as Array<{
    event_id: string;
  }>;
  const copies = new Map<string, number>();
  for (const row of rows) copies.set(row.event_id, (copies.get(row.event_id) ?? 0) + 1);
  return copies;
}

const since = new Date(Date.now() - 3_600_000).toISOString();

describe('a replay by filter', () => {
  it('dry-runs to the count it then enqueues: one pending row per matching event, marked with the replay', async () => {
    const events = await seedPublishedEvents(database.db, [
      ...Array.from({ length: 30 }, () => ({ source: 'shop-eu', type: 'order.created' })),
      ...Array.from({ length: 10 }, () => ({ source: 'shop-eu', type: 'user.signed_up' })),
      ...Array.from({ length: 10 }, () => ({ source: 'crm', type: 'order.created' })),
    ]);
    const body = { filter: { sources: ['shop-*'], types: ['order.*'], since } };
    const dry = await requestReplay(
      database.db,
      parseReplayRequest({ ...body, dry_run: true }, { maxRateLimit: 10 }),
      operator,
      {
        defaultRateLimit: 10,
      },
    );
    expect(dry).toMatchObject({ dryRun: true, count: { events: 30, withoutOriginalRoute: 0 } });
    expect(await database.db('replays').count({ n: '*' })).toEqual([{ n: 0 }]);

    const replay = await start(body);
    expect(replay).toMatchObject({ status: 'queued', total: 30, requestedBy: 'ops' });
    runner();
    const done = await finished(replay.id);
    expect(done).toMatchObject({ status: 'completed', total: 30, matched: 30, enqueued: 30, skipped: 0 });
    const copies = await replayedCopies(replay.id);
    const expected = events.filter((e) => e.source === 'shop-eu' && e.type === 'order.created').map((e) => e.id);
    expect([...copies.keys()].sort()).toEqual(expected.sort());
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    const rows = await database.db('outbox').where({ replay_id: replay.id });
    expect(
      rows.every((r) => r.status === 'pending' && r.destination === 'history' && r.routing_key === 'order.created'),
    ).toBe(true);
  });

  it('takes only events within the scope of the key that asked, whatever the filter says', async () => {
    await seedPublishedEvents(database.db, [
      ...Array.from({ length: 5 }, () => ({ source: 'shop-eu', type: 'order.created' })),
      ...Array.from({ length: 5 }, () => ({ source: 'crm', type: 'order.created' })),
    ]);
    const scoped: ReplayActor = { name: 'shop-team', scope: { sources: ['shop-*'], types: ['*'] } };
    const replay = await start({ filter: { sources: ['*'], since } }, scoped);
    expect(replay.total).toBe(5);
    runner();
    expect(await finished(replay.id)).toMatchObject({ status: 'completed', matched: 5, enqueued: 5 });
    // Another scope does not see it; an unscoped key does.
    await expect(
      getReplay(database.db, replay.id, { name: 'crm', scope: { sources: ['crm'], types: ['*'] } }),
    ).rejects.toThrow(/no replay/);
    await expect(getReplay(database.db, replay.id, operator)).resolves.toMatchObject({ id: replay.id });
  });

  it('refuses to start without bounds unless confirm_count is the count it would take', async () => {
    await seedPublishedEvents(
      database.db,
      Array.from({ length: 7 }, () => ({ source: 'crm', type: 'x.y' })),
    );
    await expect(start({})).rejects.toBeInstanceOf(ReplayConfirmationError);
    await expect(start({ confirm_count: 6 })).rejects.toThrow(/confirm_count 6 is not the 7 events/);
    expect(await database.db('replays').count({ n: '*' })).toEqual([{ n: 0 }]);
    await expect(start({ confirm_count: 7 })).resolves.toMatchObject({ total: 7 });
  });

  it('sends to a named destination with the event type as routing key, also events whose original rows are gone', async () => {
    const events = await seedPublishedEvents(
      database.db,
      Array.from({ length: 4 }, () => ({ source: 'crm', type: 'user.x' })),
    );
    await database.db('outbox').where({ event_id: events[0]?.id }).delete();
    const toOriginal = await start({ filter: { ids: events.map((e) => e.id) } });
    runner();
    expect(await finished(toOriginal.id)).toMatchObject({ matched: 4, enqueued: 3, skipped: 1 });

    const named = await start({
      filter: { ids: events.map((e) => e.id) },
      target: { broker: 'rabbitmq', exchange: 'backfill' },
    });
    expect(await finished(named.id)).toMatchObject({ matched: 4, enqueued: 4, skipped: 0 });
    const rows = await database.db('outbox').where({ replay_id: named.id });
    expect(rows.map((r) => [r.broker, r.destination, r.routing_key])).toEqual(
      events.map(() => ['rabbitmq', 'backfill', 'user.x']),
    );
  });
});

describe('the replay runner', () => {
  it('resumes after a restart from its cursor and enqueues nothing twice', async () => {
    const events = await seedPublishedEvents(
      database.db,
      Array.from({ length: 600 }, () => ({ source: 'crm', type: 'a.b' })),
    );
    const replay = await start({ filter: { since }, rate_limit: 200 });
    const first = runner({ batchSize: 100 });
    await eventually(async () => (await getReplay(database.db, replay.id, operator)).matched >= 200, {
      timeoutMs: 20_000,
      message: () => 'the first runner did not walk 200 events',
    });
    await first.stop(10_000);
    const stopped = await getReplay(database.db, replay.id, operator);
    expect(stopped.status).toBe('running');
    expect(stopped.matched).toBeLessThan(600);
    expect(stopped.cursor).not.toBeNull();
    expect((await replayedCopies(replay.id)).size).toBe(stopped.matched);

    runner({ batchSize: 100 });
    expect(await finished(replay.id)).toMatchObject({ status: 'completed', matched: 600, enqueued: 600 });
    const copies = await replayedCopies(replay.id);
    expect(copies.size).toBe(600);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(copies.keys())).toEqual(new Set(events.map((e) => e.id)));
  });

  it('takes over a replay whose runner died once its lease runs out, going on from its cursor', async () => {
    await seedPublishedEvents(
      database.db,
      Array.from({ length: 300 }, () => ({ source: 'crm', type: 'a.b' })),
    );
    const replay = await start({ filter: { since } });
    // A runner that claims, does two batches and dies: no release, its lease simply runs out.
    const store = createReplayStore(database.db);
    const claimed = (await store.claim('dead-runner', 1_000)) as ReplayRecord;
    let batch = await store.runBatch(claimed, 'dead-runner', null, 100, 1_000);
    batch = await store.runBatch(claimed, 'dead-runner', batch.cursor, 100, 1_000);
    expect(batch).toMatchObject({ held: true, matched: 100 });

    runner({ lease: 1_000 });
    expect(await finished(replay.id)).toMatchObject({ status: 'completed', matched: 300, enqueued: 300 });
    // The dead runner, were it to come back, holds nothing any more.
    await expect(store.runBatch(claimed, 'dead-runner', batch.cursor, 100, 1_000)).resolves.toMatchObject({
      held: false,
    });
    expect((await replayedCopies(replay.id)).size).toBe(300);
  });

  it('never runs one replay in two runners at once', async () => {
    await seedPublishedEvents(
      database.db,
      Array.from({ length: 400 }, () => ({ source: 'crm', type: 'a.b' })),
    );
    const replay = await start({ filter: { since }, rate_limit: 400 });
    const store = createReplayStore(database.db);
    const batchesBy = new Set<string>();
    const recording = {
      ...store,
      runBatch: (...args: Parameters<typeof store.runBatch>) => {
        batchesBy.add(args[1]);
        return store.runBatch(...args);
      },
    };
    runner({ store: recording, batchSize: 50 });
    runner({ store: recording, batchSize: 50 });
    expect(await finished(replay.id)).toMatchObject({ status: 'completed', matched: 400, enqueued: 400 });
    expect(batchesBy.size).toBe(1);
    expect((await replayedCopies(replay.id)).size).toBe(400);
  });

  it('stops at the next batch when cancelled, and enqueues nothing after the cancel', async () => {
    await seedPublishedEvents(
      database.db,
      Array.from({ length: 500 }, () => ({ source: 'crm', type: 'a.b' })),
    );
    const replay = await start({ filter: { since }, rate_limit: 50 });
    runner({ batchSize: 100 });
    await eventually(async () => (await getReplay(database.db, replay.id, operator)).matched >= 50, {
      timeoutMs: 20_000,
      message: () => 'the runner did not walk its first batch',
    });
    const cancelled = await cancelVisibleReplay(database.db, replay.id, operator);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: 'ops' });
    const rowsAtCancel = (await replayedCopies(replay.id)).size;
    expect(rowsAtCancel).toBe(cancelled.matched);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await replayedCopies(replay.id)).size).toBe(rowsAtCancel);
    expect(rowsAtCancel).toBeLessThan(500);
    await expect(cancelVisibleReplay(database.db, replay.id, operator)).rejects.toThrow(/already ended \(cancelled\)/);
  });

  it('enqueues no further batch while max_pending of its rows wait for the relays, and goes on once they are published', async () => {
    await seedPublishedEvents(
      database.db,
      Array.from({ length: 300 }, () => ({ source: 'crm', type: 'a.b' })),
    );
    const replay = await start({ filter: { since } });
    runner({ batchSize: 50, maxPending: 100 });
    await eventually(async () => (await getReplay(database.db, replay.id, operator)).matched >= 100, {
      timeoutMs: 20_000,
      message: () => 'the runner did not walk its first batches',
    });
    // Nothing publishes: the replay stays at max_pending rows waiting.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await getReplay(database.db, replay.id, operator)).toMatchObject({ status: 'running', matched: 100 });
    // What a relay does: publish them. The replay goes on, and completes as it is published.
    // (A knex builder runs only when awaited or then-ed.)
    const publish = setInterval(() => {
      database
        .db('outbox')
        .where({ replay_id: replay.id, status: 'pending' })
        .update({ status: 'published' })
        .then(
          () => undefined,
          () => undefined,
        );
    }, 100);
    try {
      expect(await finished(replay.id)).toMatchObject({ status: 'completed', matched: 300, enqueued: 300 });
    } finally {
      clearInterval(publish);
    }
  });

  it('paces a replay to its rate limit', async () => {
    await seedPublishedEvents(
      database.db,
      Array.from({ length: 1_200 }, () => ({ source: 'crm', type: 'a.b' })),
    );
    const replay = await start({ filter: { since }, rate_limit: 400 });
    const batches: Array<{ at: number; result: ReplayBatchResult }> = [];
    const startedAt = Date.now();
    runner({ batchSize: 1_000, onBatch: (_r, result) => batches.push({ at: Date.now() - startedAt, result }) });
    const done = await finished(replay.id, 60_000);
    expect(done).toMatchObject({ status: 'completed', matched: 1_200 });
    // A batch is at most one second's worth (400), and the events walked never run ahead
    // of the rate: 1 200 events at 400/s take at least 2 s after the first batch.
    expect(Math.max(...batches.map((b) => b.result.matched))).toBeLessThanOrEqual(400);
    const last = batches.filter((b) => b.result.matched > 0).at(-1);
    expect(last?.at).toBeGreaterThanOrEqual(1_900);
    // Generous upper bound for a loaded CI machine: not stalled either.
    expect(last?.at).toBeLessThan(30_000);
  });
});
