import { uuidv7 } from '@orchestron/db';
import { AdminHarness } from './harness';

// Replay and discard over the API: the CLI's semantics (only status dead, oldest first, in
// batches), a selection that must say what it means, dry runs that change nothing, a key's
// scope bounding what it can touch, an audit entry with each change.

let harness: AdminHarness;
const deadLetterIds: Record<string, number> = {};

async function seedDeadLetter(name: string, source: string, type: string): Promise<void> {
  const id = uuidv7();
  await harness.db.raw(`insert into events (id, source, type, payload) values (?, ?, ?, '{}'::jsonb)`, [
    id,
    source,
    type,
  ]);
  const { rows } = await harness.db.raw<{ rows: Array<{ id: number }> }>(
    `insert into outbox (event_id, broker, destination, routing_key, status, attempts, last_error)
     values (?, 'rabbitmq', 'events', ?, 'dead', 1, 'NO_ROUTE') returning id`,
    [id, type],
  );
  const inserted = await harness.db.raw<{ rows: Array<{ id: number }> }>(
    `insert into dead_letter_queue (outbox_id, event_id, broker, destination, routing_key, error, attempts)
     values (?, ?, 'rabbitmq', 'events', ?, 'NO_ROUTE', 1) returning id`,
    [rows[0]!.id, id, type],
  );
  deadLetterIds[name] = inserted.rows[0]!.id;
}

const statusOf = async (name: string): Promise<string> =>
  (await harness.db('dead_letter_queue').where({ id: deadLetterIds[name] }).first()).status as string;

beforeAll(async () => {
  harness = await AdminHarness.start('admin_dead_letters');
  await harness.createKey('operator', { roles: ['operator'] });
  await harness.createKey('shop-operator', { roles: ['operator'], sources: ['shop-*'] });
  await harness.createKey('root', { roles: ['admin'] });
  await seedDeadLetter('crm-1', 'crm', 'user.signed_up');
  await seedDeadLetter('crm-2', 'crm', 'user.signed_up');
  await seedDeadLetter('shop-1', 'shop-eu', 'order.created');
  await seedDeadLetter('shop-2', 'shop-eu', 'order.created');
});

afterAll(async () => {
  await harness?.stop();
});

it('refuses a selection that says nothing, or a bad time, with 400 and changes nothing', async () => {
  for (const body of [
    {},
    { dry_run: true },
    { filter: { since: 'last week' } },
    { ids: [] },
    { filter: { colour: 'red' } },
  ]) {
    const response = await harness.call('POST', '/v1/dead-letters/discard', { as: 'operator', body });
    expect(response.status).toBe(400);
  }
  expect(await statusOf('crm-1')).toBe('dead');
});

it('counts and lists in a dry run without changing anything', async () => {
  const response = await harness.call('POST', '/v1/dead-letters/replay', {
    as: 'operator',
    body: { filter: { source: 'crm' }, dry_run: true },
  });
  expect(response.body).toMatchObject({
    dry_run: true,
    count: 2,
    items: [{ id: deadLetterIds['crm-1'] }, { id: deadLetterIds['crm-2'] }],
  });
  expect(await statusOf('crm-1')).toBe('dead');
  expect(await harness.db('outbox').where({ status: 'pending' }).count({ n: '*' })).toEqual([{ n: 0 }]);
});

it('never touches a dead letter outside the key’s scope, even by id', async () => {
  const response = await harness.call('POST', '/v1/dead-letters/discard', {
    as: 'shop-operator',
    body: { ids: [deadLetterIds['crm-1'], deadLetterIds['shop-1']] },
  });
  expect(response.body).toMatchObject({ count: 1, items: [{ id: deadLetterIds['shop-1'] }] });
  expect(await statusOf('crm-1')).toBe('dead');
  expect(await statusOf('shop-1')).toBe('discarded');
});

it('replays by filter into new pending outbox rows, in batches, each audited with its ids', async () => {
  const response = await harness.call('POST', '/v1/dead-letters/replay', {
    as: 'operator',
    body: { filter: { type: 'user.*' } },
  });
  const result = response.body as { count: number; items: Array<{ id: number; outbox_id: number }> };
  expect(result.count).toBe(2);
  const pending = await harness.db('outbox').whereIn(
    'id',
    result.items.map((i) => i.outbox_id),
  );
  expect(pending.map((row: { status: string }) => row.status)).toEqual(['pending', 'pending']);
  expect(await statusOf('crm-2')).toBe('replayed');
  const audit = await harness.call('GET', '/v1/audit?action=dead_letters.replay&actor=operator', { as: 'root' });
  expect((audit.body as { items: unknown[] }).items[0]).toMatchObject({
    outcome: 'ok',
    target: { filter: { type: 'user.*' } },
    result: { replayed: 2 },
  });
});

it('discards every dead letter the key may see with all: true', async () => {
  const response = await harness.call('POST', '/v1/dead-letters/discard', { as: 'shop-operator', body: { all: true } });
  expect(response.body).toMatchObject({ count: 1, items: [{ id: deadLetterIds['shop-2'] }] });
});
