import { insertEvents, insertOutboxRows, uuidv7 } from '@orchestron/db';
import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { runCli } from './run-cli';

// `orchestron replay` run as operators run it: the built command as a process against this
// file's own database; its effects checked in the replays and outbox tables.

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('cli_replay');
});

afterAll(async () => {
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events, replays cascade');
});

const replay = (...args: string[]) => runCli(['replay', ...args], { DATABASE_URL: database.url });

/** Published events of `source`, one outbox row each to the exchange `history`. */
async function stored(count: number, source: string, type = 'order.created'): Promise<string[]> {
  const ids = Array.from({ length: count }, () => uuidv7());
  await insertEvents(
    database.db,
    ids.map((id) => ({
      id,
      source,
      type,
      schemaVersion: 1,
      idempotencyKey: null,
      payload: {},
      headers: { 'content-type': 'application/json' },
      receivedAt: new Date(),
    })),
  );
  await insertOutboxRows(
    database.db,
    ids.map((eventId) => ({
      eventId,
      broker: 'rabbitmq',
      destination: 'history',
      routingKey: type,
      partitionKey: null,
    })),
  );
  await database.db('outbox').whereIn('event_id', ids).update({ status: 'published' });
  return ids;
}

describe('orchestron replay start', () => {
  it('dry-runs to a count and changes nothing', async () => {
    await stored(3, 'shop');
    await stored(2, 'crm');
    const result = await replay('start', '--source', 'shop', '--since', '1h', '--dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^dry run: the replay would take 3 event\(s\) received before /);
    const json = await replay('start', '--source', 'shop,crm', '--since', '1h', '--dry-run', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ dry_run: true, count: 5, without_original_route: 0 });
    expect(await database.db('replays').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('refuses a replay without --id or --since until --confirm-count repeats its count, then queues it', async () => {
    await stored(4, 'shop');
    const refused = await replay('start', '--type', 'order.*');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /would take every stored event \(4 up to .*\); repeat the request with confirm_count 4/,
    );
    expect(await database.db('replays').count({ n: '*' })).toEqual([{ n: 0 }]);

    const started = await replay('start', '--type', 'order.*', '--confirm-count', '4', '--rate', '50', '--json');
    expect(started.code).toBe(0);
    const queued = JSON.parse(started.stdout) as { id: string };
    expect(queued).toMatchObject({ status: 'queued', total: 4, rate_limit: 50, target: null });
    expect(await database.db('replays').where({ id: queued.id }).first()).toMatchObject({
      requested_by: expect.stringMatching(/^cli:/),
    });
  });

  it('says what is wrong with the options, and queues nothing', async () => {
    const result = await replay('start', '--since', 'yesterday');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--since: "yesterday" is neither an ISO time/);
    const target = await replay('start', '--since', '1h', '--broker', 'kafka');
    expect(target.code).toBe(2);
    expect(target.stderr).toMatch(/--broker and --destination name a target together/);
    const rate = await replay('start', '--since', '1h', '--rate', '0');
    expect(rate.stderr).toMatch(/rate_limit: must be an integer of at least 1/);
    expect(await database.db('replays').count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});

describe('orchestron replay run, status and cancel', () => {
  it('runs a queued replay to the end and shows its progress', async () => {
    const ids = await stored(30, 'shop');
    const started = JSON.parse((await replay('start', '--since', '1h', '--json')).stdout) as { id: string };
    const run = await replay('run');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/no replay left to run/);
    const rows = await database.db('outbox').where({ replay_id: started.id }).select('event_id');
    expect(rows.map((r: { event_id: string }) => r.event_id).sort()).toEqual([...ids].sort());

    const status = await replay('status', started.id);
    expect(status.stdout).toMatch(new RegExp(`^replay ${started.id} \\(completed\\)`));
    expect(status.stdout).toMatch(/30 of 30 event\(s\) walked, 30 message\(s\) enqueued, 0 skipped/);
    const list = await replay('status');
    expect(list.stdout).toMatch(new RegExp(`^ID\\s+STATUS.*\\n${started.id}\\s+completed\\s`));
  });

  it('cancels a queued replay, which then never runs, and refuses to cancel it twice', async () => {
    await stored(5, 'shop');
    const started = JSON.parse((await replay('start', '--since', '1h', '--json')).stdout) as { id: string };
    const cancelled = await replay('cancel', started.id);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(/cancelled after 0 of 5 event\(s\)/);
    expect((await replay('run')).code).toBe(0);
    expect(await database.db('outbox').where({ replay_id: started.id })).toEqual([]);
    const again = await replay('cancel', started.id);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/has already ended \(cancelled\)/);
    expect((await replay('status', uuidv7())).stderr).toMatch(/no replay/);
    expect((await replay('cancel', 'not-an-id')).stderr).toMatch(/no replay not-an-id/);
  });
});
