import { createReplayStore, ReplayRunner } from '@orchestron/replay';
import { eventually, seedPublishedEvents } from '@orchestron/testing';
import { AdminHarness } from './harness';

// The replay routes over HTTP: each answer checked against the OpenAPI document (harness),
// the replays run by a runner on the same database, their effects read from the outbox and
// the audit log.

let harness: AdminHarness;
let runner: ReplayRunner;
const since = new Date(Date.now() - 3_600_000).toISOString();

interface ReplayBody {
  id: string;
  status: string;
  total: number;
  matched: number;
  enqueued: number;
}

beforeAll(async () => {
  harness = await AdminHarness.start('admin_replays');
  await harness.createKey('operator', { roles: ['operator'] });
  await harness.createKey('shop-operator', { roles: ['operator'], sources: ['shop-*'] });
  await harness.createKey('crm-viewer', { roles: ['viewer'], sources: ['crm'] });
  await harness.createKey('viewer', { roles: ['viewer'] });
  // The keys are known at once, not after the cache's next refresh.
  await harness.apiKeys.refresh();
  runner = new ReplayRunner({
    store: createReplayStore(harness.db),
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    batchSize: 100,
    concurrency: 1,
    pollInterval: 50,
    lease: 30_000,
    // No relay publishes here: the replayed rows stay pending, so this bound must not hold a replay back.
    maxPending: 1_000_000,
  });
  runner.start();
});

beforeEach(async () => {
  await harness.db.raw('truncate events, replays, audit_log cascade');
});

afterAll(async () => {
  await runner?.stop(10_000);
  await harness?.stop();
});

const post = (as: string, url: string, body?: unknown, operationPath?: string) =>
  harness.call('POST', url, { as, body, ...(operationPath ? { operationPath } : {}) });
const get = (as: string, url: string, operationPath: string) => harness.call('GET', url, { as, operationPath });

async function finished(id: string): Promise<ReplayBody> {
  let body: ReplayBody | undefined;
  await eventually(
    async () => {
      body = (await get('operator', `/v1/replays/${id}`, '/v1/replays/{id}')).body as ReplayBody;
      return !['queued', 'running'].includes(body.status);
    },
    { timeoutMs: 30_000, message: () => `replay ${id} did not finish: ${JSON.stringify(body)}` },
  );
  return body as ReplayBody;
}

async function auditOf(action: string): Promise<Array<Record<string, unknown>>> {
  return harness.db('audit_log').where({ action }).orderBy('id');
}

describe('POST /v1/replays', () => {
  it('dry-runs, then replays a filtered set of stored events and shows its progress, audited', async () => {
    const events = await seedPublishedEvents(harness.db, [
      ...Array.from({ length: 12 }, () => ({ source: 'shop-eu', type: 'order.created' })),
      ...Array.from({ length: 5 }, () => ({ source: 'shop-eu', type: 'user.signed_up' })),
    ]);
    const body = { filter: { types: ['order.*'], since: '1h' } };
    const dry = await post('operator', '/v1/replays', { ...body, dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dry_run: true, count: 12, without_original_route: 0 });

    const started = await post('operator', '/v1/replays', { ...body, rate_limit: 100 });
    expect(started.status).toBe(202);
    const replay = started.body as ReplayBody;
    expect(started.headers.get('location')).toBe(`/v1/replays/${replay.id}`);
    expect(replay).toMatchObject({ status: 'queued', total: 12, rate_limit: 100, requested_by: 'operator' });
    expect(await finished(replay.id)).toMatchObject({ status: 'completed', matched: 12, enqueued: 12 });
    const rows = (await harness.db('outbox').where({ replay_id: replay.id }).select('event_id')) as Array<{
      event_id: string;
    }>;
    const expected = events.filter((e) => e.type === 'order.created').map((e) => e.id);
    expect(rows.map((r) => r.event_id).sort()).toEqual(expected.sort());
    expect(await auditOf('replays.start')).toEqual([
      expect.objectContaining({
        actor: 'operator',
        outcome: 'ok',
        target: expect.objectContaining({
          replay_id: replay.id,
          filter: { types: ['order.*'], since: expect.any(String), until: expect.any(String) },
        }),
        result: { status: 'queued', total: 12 },
      }),
    ]);
  });

  it('replays for a scoped key only the events in its scope, and shows the replay only to its scope', async () => {
    await seedPublishedEvents(harness.db, [
      ...Array.from({ length: 4 }, () => ({ source: 'shop-eu', type: 'order.created' })),
      ...Array.from({ length: 6 }, () => ({ source: 'crm', type: 'order.created' })),
    ]);
    const started = await post('shop-operator', '/v1/replays', { filter: { sources: ['*'], since } });
    expect(started.status).toBe(202);
    const replay = started.body as ReplayBody;
    expect(replay.total).toBe(4);
    expect(await finished(replay.id)).toMatchObject({ matched: 4, enqueued: 4 });

    expect((await get('crm-viewer', `/v1/replays/${replay.id}`, '/v1/replays/{id}')).status).toBe(404);
    expect(((await get('crm-viewer', '/v1/replays', '/v1/replays')).body as { items: unknown[] }).items).toEqual([]);
    expect((await get('viewer', `/v1/replays/${replay.id}`, '/v1/replays/{id}')).status).toBe(200);
    const mine = (await get('shop-operator', '/v1/replays', '/v1/replays')).body as { items: ReplayBody[] };
    expect(mine.items.map((r) => r.id)).toEqual([replay.id]);
  });

  it('refuses an unbounded replay with 409 until confirm_count is the dry-run count, auditing the refusal', async () => {
    await seedPublishedEvents(
      harness.db,
      Array.from({ length: 3 }, () => ({ source: 'crm', type: 'a.b' })),
    );
    const dry = await post('operator', '/v1/replays', { dry_run: true, filter: { until: '0s' } });
    expect(dry.body).toMatchObject({ count: 3 });
    const refused = await post('operator', '/v1/replays', {});
    expect(refused.status).toBe(409);
    expect((refused.body as { detail: string }).detail).toMatch(/repeat the request with confirm_count 3/);
    expect(await auditOf('replays.start')).toEqual([
      expect.objectContaining({ outcome: 'refused', result: expect.objectContaining({ status: 409, count: 3 }) }),
    ]);
    expect(await harness.db('replays')).toEqual([]);
    const started = await post('operator', '/v1/replays', { confirm_count: 3 });
    expect(started.status).toBe(202);
  });

  it('answers a bad request with 400, every problem listed, and starts nothing', async () => {
    const schema = await post('operator', '/v1/replays', { filter: { colour: 'red' }, rate_limit: 0 });
    expect(schema.status).toBe(400);
    const limits = await post('operator', '/v1/replays', {
      filter: { since: 'yesterday' },
      rate_limit: 1_000_000,
    });
    expect(limits.status).toBe(400);
    expect((limits.body as { errors: Array<{ pointer: string; message: string }> }).errors).toEqual([
      {
        pointer: '/filter/since',
        message: 'filter.since: must be an ISO 8601 time (2026-11-26T10:00:00Z) or a duration ago (24h, 7d)',
      },
      { pointer: '/rate_limit', message: 'rate_limit: at most 5000 events per second (replay.max_rate_limit)' },
    ]);
    expect(await harness.db('replays')).toEqual([]);
  });
});

describe('GET /v1/replays and POST /v1/replays/{id}/cancel', () => {
  it('pages through replays newest first', async () => {
    await seedPublishedEvents(harness.db, [{ source: 'crm', type: 'a.b' }]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(((await post('operator', '/v1/replays', { filter: { since } })).body as ReplayBody).id);
    const first = (await get('viewer', '/v1/replays?limit=2', '/v1/replays')).body as {
      items: ReplayBody[];
      next_cursor: string;
    };
    expect(first.items.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const second = (await get('viewer', `/v1/replays?limit=2&cursor=${first.next_cursor}`, '/v1/replays')).body as {
      items: ReplayBody[];
      next_cursor: string | null;
    };
    expect(second).toMatchObject({ items: [expect.objectContaining({ id: ids[0] })], next_cursor: null });
  });

  it('cancels a running replay, audited; a second cancel is a 409 and an unknown id a 404', async () => {
    await seedPublishedEvents(
      harness.db,
      Array.from({ length: 200 }, () => ({ source: 'crm', type: 'a.b' })),
    );
    const replay = (await post('operator', '/v1/replays', { filter: { since }, rate_limit: 20 })).body as ReplayBody;
    const cancelPath = '/v1/replays/{id}/cancel';
    const cancelled = await post('operator', `/v1/replays/${replay.id}/cancel`, undefined, cancelPath);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: replay.id, status: 'cancelled', cancelled_by: 'operator' });
    expect(await auditOf('replays.cancel')).toEqual([
      expect.objectContaining({ actor: 'operator', outcome: 'ok', target: { replay_id: replay.id } }),
    ]);
    const matched = (cancelled.body as ReplayBody).matched;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await harness.db('outbox').where({ replay_id: replay.id })).toHaveLength(matched);
    expect((await post('operator', `/v1/replays/${replay.id}/cancel`, undefined, cancelPath)).status).toBe(409);
    const unknown = '0193a0b0-0000-7000-8000-00000000beef';
    expect((await post('operator', `/v1/replays/${unknown}/cancel`, undefined, cancelPath)).status).toBe(404);
    expect((await get('viewer', '/v1/replays/not-a-uuid', '/v1/replays/{id}')).status).toBe(404);
  });
});
