import pg from 'pg';
import { deadLetter, insertEvents, insertOutboxRows, OUTBOX_CHANNEL, uuidv7 } from '@orchestron/db';
import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { runCli } from './run-cli';

// `orchestron dlq` run as operators run it: the built command as a process, against this
// file's own database, its output read and its effects checked in the database.

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('cli_dlq');
});

afterAll(async () => {
  await database.drop();
});

beforeEach(async () => {
  await database.db.raw('truncate events, dead_letter_queue cascade');
});

const dlq = (...args: string[]) => runCli(['dlq', ...args], { DATABASE_URL: database.url });

interface Seed {
  type?: string;
  source?: string;
  destination?: string;
  error?: string;
}

/** One event whose only outbox row was dead-lettered; resolves with the dead-letter id. */
async function deadLettered(seed: Seed = {}): Promise<number> {
  const eventId = uuidv7();
  await insertEvents(database.db, [
    {
      id: eventId,
      source: seed.source ?? 'shop',
      type: seed.type ?? 'order.created',
      schemaVersion: 1,
      idempotencyKey: null,
      payload: { order: 42, note: 'café' },
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-1' },
      receivedAt: new Date(),
    },
  ]);
  await insertOutboxRows(database.db, [
    {
      eventId,
      broker: 'rabbitmq',
      destination: seed.destination ?? 'orders',
      routingKey: seed.type ?? 'order.created',
      partitionKey: null,
    },
  ]);
  const outbox = await database.db('outbox').where({ event_id: eventId }).first();
  await database.db.transaction((trx) => deadLetter(trx, [{ id: outbox.id, error: seed.error ?? 'NO_ROUTE' }]));
  return (await database.db('dead_letter_queue').where({ event_id: eventId }).first()).id;
}

/** Everything a dry run must leave as it was. */
async function snapshot(): Promise<unknown> {
  return {
    dlq: await database.db('dead_letter_queue').orderBy('id'),
    outbox: await database.db('outbox').orderBy('id'),
  };
}

describe('orchestron dlq list', () => {
  it('lists dead letters as a table, and as JSON with --json', async () => {
    const order = await deadLettered({ error: 'NO_ROUTE: nothing bound to exchange "orders"' });
    const user = await deadLettered({ type: 'user.signed_up', source: 'crm', destination: 'users' });

    const text = await dlq('list');
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+DEAD-LETTERED\s+STATUS\s+BROKER\s+DESTINATION\s+TYPE\s+SOURCE\s+ATTEMPTS\s+ERROR$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${order}\\s.*dead\\s+rabbitmq\\s+orders\\s+order\\.created\\s+shop\\s+1\\s+NO_ROUTE`),
    );
    expect(lines[2]).toMatch(new RegExp(`^${user}\\s.*users\\s+user\\.signed_up\\s+crm`));

    const json = await dlq('list', '--json');
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((r) => r.id)).toEqual([order, user]);
    expect(rows[1]).toMatchObject({
      status: 'dead',
      type: 'user.signed_up',
      source: 'crm',
      broker: 'rabbitmq',
      destination: 'users',
      attempts: 1,
      error: 'NO_ROUTE',
      replayedAt: null,
    });
    expect(new Date(rows[1]?.deadLetteredAt as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('applies the filters: type glob, destination, source, error text, time and status', async () => {
    const created = await deadLettered({ type: 'order.created', error: 'NO_ROUTE' });
    const refunded = await deadLettered({ type: 'order.refunded', source: 'pos', error: 'Message too large' });
    const user = await deadLettered({ type: 'user.signed_up', destination: 'users' });
    await database
      .db('dead_letter_queue')
      .where({ id: created })
      .update({ created_at: database.db.raw(`now() - interval '3 days'`) });
    await database.db('dead_letter_queue').where({ id: user }).update({ status: 'replayed' });
    const ids = async (...args: string[]): Promise<number[]> => {
      const result = await dlq('list', '--json', ...args);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      return (JSON.parse(result.stdout) as Array<{ id: number }>).map((r) => r.id);
    };

    expect(await ids()).toEqual([created, refunded]);
    expect(await ids('--type', 'order.*')).toEqual([created, refunded]);
    expect(await ids('--type', '*.refunded')).toEqual([refunded]);
    expect(await ids('--source', 'pos')).toEqual([refunded]);
    expect(await ids('--destination', 'users')).toEqual([]);
    expect(await ids('--destination', 'users', '--status', 'replayed')).toEqual([user]);
    expect(await ids('--error', 'too large')).toEqual([refunded]);
    expect(await ids('--since', '24h')).toEqual([refunded]);
    expect(await ids('--until', '2d')).toEqual([created]);
    expect(await ids('--since', new Date(Date.now() - 4 * 86_400_000).toISOString(), '--until', '1d')).toEqual([
      created,
    ]);
    expect(await ids('--id', `${created},${user}`)).toEqual([created]);
    expect(await ids('--id', String(refunded), '--id', String(created))).toEqual([created, refunded]);
    expect(await ids('--limit', '1')).toEqual([created]);
  });

  it('says when more match than --limit shows, and when nothing matches', async () => {
    await deadLettered();
    await deadLettered();
    const limited = await dlq('list', '--limit', '1');
    expect(limited.stdout).toContain('(first 1 shown; more match');
    const none = await dlq('list', '--type', 'nothing.*');
    expect(none).toMatchObject({ code: 0, stdout: 'no dead letters with status dead match\n' });
  });

  it('refuses bad options with exit status 2 and a reason', async () => {
    for (const [args, reason] of [
      [['--status', 'gone'], /--status: "gone" is not one of dead, replayed, discarded/],
      [['--since', 'yesterday'], /--since: "yesterday" is neither an ISO time/],
      [['--limit', '0'], /--limit: "0" is not a positive integer/],
      [['--id', 'abc'], /--id: "abc" is not a dead-letter id/],
    ] as const) {
      const result = await dlq('list', ...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(reason);
    }
    expect((await dlq('purge')).code).toBe(2);
  });
});

describe('orchestron dlq show', () => {
  it('shows a dead letter in full with its payload and headers, whatever its status', async () => {
    const id = await deadLettered({ error: 'NO_ROUTE' });
    await database.db('dead_letter_queue').where({ id }).update({ status: 'discarded', discarded_at: new Date() });

    const text = await dlq('show', String(id));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`dead letter ${id} (discarded)`);
    expect(text.stdout).toMatch(/event\s+[0-9a-f-]{36}\s+order\.created from shop/);
    expect(text.stdout).toMatch(/error\s+NO_ROUTE/);
    expect(text.stdout).toContain('"note": "café"');

    const json = await dlq('show', '--id', String(id), '--json');
    const [detail] = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(detail).toMatchObject({
      id,
      status: 'discarded',
      payload: { order: 42, note: 'café' },
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-1' },
    });
  });
});

describe('orchestron dlq replay', () => {
  it('with --dry-run prints what it would replay and changes nothing', async () => {
    const a = await deadLettered();
    const b = await deadLettered({ type: 'user.signed_up' });
    const before = await snapshot();

    const text = await dlq('replay', '--dry-run');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('dry run: would replay 2 dead letter(s); nothing was changed');
    expect(text.stdout).toMatch(new RegExp(`\\n  ${a}  order\\.created from shop -> rabbitmq orders`));
    const json = await dlq('replay', '--dry-run', '--json', '--type', 'user.*');
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, wouldReplay: 1, items: [{ id: b }] });

    expect(await snapshot()).toEqual(before);
  });

  it('re-enqueues the matching dead letters into the outbox, records it, and notifies the relays', async () => {
    const orders = [await deadLettered(), await deadLettered({ type: 'order.refunded' })];
    const user = await deadLettered({ type: 'user.signed_up' });
    const listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    const notified = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.channel)));
    await listener.query(`listen ${OUTBOX_CHANNEL}`);
    try {
      const result = await dlq('replay', '--type', 'order.*', '--json');
      expect(result.code).toBe(0);
      const output = JSON.parse(result.stdout) as { replayed: number; items: Array<{ id: number; outboxId: number }> };
      expect(output.replayed).toBe(2);
      expect(output.items.map((i) => i.id)).toEqual(orders);
      await expect(notified).resolves.toBe(OUTBOX_CHANNEL);

      for (const item of output.items) {
        const row = await database.db('dead_letter_queue').where({ id: item.id }).first();
        expect(row).toMatchObject({ status: 'replayed', replayed_outbox_id: item.outboxId });
        expect(row.replayed_at).toBeInstanceOf(Date);
        const outbox = await database.db('outbox').where({ id: item.outboxId }).first();
        expect(outbox).toMatchObject({
          event_id: row.event_id,
          destination: row.destination,
          routing_key: row.routing_key,
          status: 'pending',
          attempts: 0,
        });
      }
      expect(await database.db('dead_letter_queue').where({ id: user }).first()).toMatchObject({ status: 'dead' });
    } finally {
      await listener.end();
    }

    // Replayed rows are no longer dead: a second replay finds nothing to do.
    const again = await dlq('replay', '--type', 'order.*');
    expect(again).toMatchObject({ code: 0, stdout: 'replayed 0 dead letter(s) into the outbox\n' });
    expect(await database.db('outbox').where({ status: 'pending' }).count({ n: '*' })).toEqual([{ n: 2 }]);
  });

  it('replays more than one batch, every matching row once', async () => {
    await database.db.raw(
      `with e as (
         insert into events (id, source, type, payload) select gen_random_uuid(), 'bulk', 'order.created', '{}'::jsonb
         from generate_series(1, 1200) returning id
       ), o as (
         insert into outbox (event_id, broker, destination, status) select id, 'rabbitmq', 'orders', 'dead' from e
         returning id, event_id
       )
       insert into dead_letter_queue (outbox_id, event_id, broker, destination, error, attempts)
       select id, event_id, 'rabbitmq', 'orders', 'NO_ROUTE', 1 from o`,
    );
    const result = await dlq('replay', '--source', 'bulk');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^replayed 1200 dead letter\(s\) into the outbox\n/);
    expect(result.stdout).toContain('… and 1150 more (--json lists them all)');
    const counts = await database.db('dead_letter_queue').select('status').count({ n: '*' }).groupBy('status');
    expect(counts).toEqual([{ status: 'replayed', n: 1200 }]);
    const [pending] = await database.db('outbox').where({ status: 'pending' }).count({ n: '*' });
    expect(Number(pending?.n)).toBe(1200);
  });

  it('takes only dead letters with status dead', async () => {
    await deadLettered();
    const result = await dlq('replay', '--status', 'discarded');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('only dead letters with status dead can be replayed');
  });
});

describe('orchestron dlq discard', () => {
  it('needs a filter or --all, and with --dry-run changes nothing', async () => {
    await deadLettered();
    const bare = await dlq('discard');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('needs a filter');

    const before = await snapshot();
    const dry = await dlq('discard', '--all', '--dry-run', '--json');
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, wouldDiscard: 1 });
    expect(await snapshot()).toEqual(before);
  });

  it('marks matching dead letters discarded, after which they cannot be replayed', async () => {
    const doomed = await deadLettered({ destination: 'legacy' });
    const kept = await deadLettered();
    const result = await dlq('discard', '--destination', 'legacy');
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('discarded 1 dead letter(s)');
    const row = await database.db('dead_letter_queue').where({ id: doomed }).first();
    expect(row.status).toBe('discarded');
    expect(row.discarded_at).toBeInstanceOf(Date);
    expect(await database.db('dead_letter_queue').where({ id: kept }).first()).toMatchObject({ status: 'dead' });

    const replay = await dlq('replay', '--id', String(doomed), '--json');
    expect(JSON.parse(replay.stdout)).toEqual({ replayed: 0, items: [] });
  });
});
