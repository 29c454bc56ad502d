import { uuidv7 } from '@orchestron/db';
import { AdminHarness } from './harness';

// A viewer finds events by source, type, time and status and sees what happened to each
// delivery; a key limited to some sources or types sees nothing outside them.

let harness: AdminHarness;
const ids: Record<string, string> = {};

async function seedEvent(
  name: string,
  event: { source: string; type: string; receivedAt: string },
  outbox: Array<{ status: 'pending' | 'published' | 'dead'; destination: string; error?: string }>,
): Promise<void> {
  const id = uuidv7(Date.parse(event.receivedAt));
  ids[name] = id;
  await harness.db.raw(
    `insert into events (id, source, type, payload, headers, received_at) values (?, ?, ?, ?::jsonb, ?::jsonb, ?)`,
    [
      id,
      event.source,
      event.type,
      JSON.stringify({ n: name }),
      JSON.stringify({ 'content-type': 'application/json' }),
      event.receivedAt,
    ],
  );
  for (const row of outbox) {
    const [inserted] = (
      await harness.db.raw<{ rows: Array<{ id: number }> }>(
        `insert into outbox (event_id, broker, destination, routing_key, status, attempts, last_error,
                             published_at, last_attempt_at)
         values (?, 'rabbitmq', ?, ?, ?::outbox_status, ?, ?, ?, ?) returning id`,
        [
          id,
          row.destination,
          event.type,
          row.status,
          row.status === 'pending' ? 0 : 1,
          row.error ?? null,
          row.status === 'published' ? event.receivedAt : null,
          row.status === 'pending' ? null : event.receivedAt,
        ],
      )
    ).rows;
    if (row.status === 'dead') {
      await harness.db.raw(
        `insert into dead_letter_queue (outbox_id, event_id, broker, destination, routing_key, error, attempts)
         values (?, ?, 'rabbitmq', ?, ?, ?, 1)`,
        [inserted!.id, id, row.destination, event.type, row.error ?? 'refused'],
      );
    }
  }
}

beforeAll(async () => {
  harness = await AdminHarness.start('admin_events', { maxPageSize: 3 });
  await harness.createKey('viewer', { roles: ['viewer'] });
  await harness.createKey('shop-viewer', { roles: ['viewer'], sources: ['shop-*'] });
  await harness.createKey('order-viewer', { roles: ['viewer'], types: ['order.*'] });
  await seedEvent('old-signup', { source: 'crm', type: 'user.signed_up', receivedAt: '2026-11-01T10:00:00Z' }, [
    { status: 'published', destination: 'events' },
  ]);
  await seedEvent('signup', { source: 'crm', type: 'user.signed_up', receivedAt: '2026-11-20T10:00:00Z' }, [
    { status: 'published', destination: 'events' },
    { status: 'dead', destination: 'audit', error: 'NO_ROUTE' },
  ]);
  await seedEvent('order-eu', { source: 'shop-eu', type: 'order.created', receivedAt: '2026-11-21T10:00:00Z' }, [
    { status: 'pending', destination: 'orders' },
  ]);
  await seedEvent('order-us', { source: 'shop-us', type: 'order.created', receivedAt: '2026-11-22T10:00:00Z' }, [
    { status: 'published', destination: 'orders' },
  ]);
  await seedEvent('payment-eu', { source: 'shop-eu', type: 'payment.succeeded', receivedAt: '2026-11-23T10:00:00Z' }, [
    { status: 'pending', destination: 'payments' },
  ]);
});

afterAll(async () => {
  await harness?.stop();
});

const list = async (as: string, query: string) => {
  const response = await harness.call('GET', `/v1/events${query}`, { as });
  expect(response.status).toBe(200);
  return response.body as { items: Array<{ id: string; status: string }>; next_cursor: string | null };
};

describe('GET /v1/events', () => {
  it('finds an event by type and time and says where it stands', async () => {
    const page = await list('viewer', '?type=user.*&since=2026-11-15&until=2026-11-30');
    expect(page.items.map((e) => e.id)).toEqual([ids.signup]);
    expect(page.items[0]).toMatchObject({ source: 'crm', type: 'user.signed_up', status: 'dead' });
  });

  it('filters by source and status', async () => {
    expect((await list('viewer', '?source=shop-eu')).items.map((e) => e.id)).toEqual([
      ids['payment-eu'],
      ids['order-eu'],
    ]);
    expect((await list('viewer', '?status=published&type=order.*')).items.map((e) => e.id)).toEqual([ids['order-us']]);
    expect((await list('viewer', '?status=pending')).items.map((e) => e.id)).toEqual([
      ids['payment-eu'],
      ids['order-eu'],
    ]);
  });

  it('pages newest first with a cursor until next_cursor is null, each event once', async () => {
    const seen: string[] = [];
    let query = '?limit=2';
    for (;;) {
      const page = await list('viewer', query);
      seen.push(...page.items.map((e) => e.id));
      if (!page.next_cursor) break;
      query = `?limit=2&cursor=${page.next_cursor}`;
    }
    expect(seen).toEqual([ids['payment-eu'], ids['order-us'], ids['order-eu'], ids.signup, ids['old-signup']]);
  });

  it('answers bad parameters with one 400 that lists each of them', async () => {
    const response = await harness.call('GET', '/v1/events?since=yesterday&status=lost&limit=4&cursor=xyz&colour=red', {
      as: 'viewer',
    });
    expect(response.status).toBe(400);
    const errors = (response.body as { errors: Array<{ parameter: string; message: string }> }).errors;
    expect(errors.map((e) => e.parameter).sort()).toEqual(['colour', 'cursor', 'limit', 'since', 'status']);
    expect(errors.find((e) => e.parameter === 'limit')?.message).toMatch(/from 1 to 3/);
  });

  it('never lists an event outside the key’s scope', async () => {
    expect((await list('shop-viewer', '')).items.map((e) => e.id)).toEqual([
      ids['payment-eu'],
      ids['order-us'],
      ids['order-eu'],
    ]);
    expect((await list('shop-viewer', '?source=crm')).items).toEqual([]);
    expect((await list('order-viewer', '?source=shop-eu')).items.map((e) => e.id)).toEqual([ids['order-eu']]);
  });
});

describe('GET /v1/events/{id}', () => {
  it('shows the payload, the headers and per destination its outbox row and dead letter', async () => {
    const response = await harness.call('GET', `/v1/events/${ids.signup}`, {
      as: 'viewer',
      operationPath: '/v1/events/{id}',
    });
    expect(response.status).toBe(200);
    const event = response.body as {
      payload: unknown;
      headers: Record<string, string>;
      deliveries: Array<{ destination: string; outbox: Array<{ status: string; dead_letter: unknown }> }>;
    };
    expect(event.payload).toEqual({ n: 'signup' });
    expect(event.headers).toEqual({ 'content-type': 'application/json' });
    expect(event.deliveries.map((d) => [d.destination, d.outbox.map((o) => o.status)])).toEqual([
      ['events', ['published']],
      ['audit', ['dead']],
    ]);
    expect(event.deliveries[1]?.outbox[0]?.dead_letter).toMatchObject({ status: 'dead', error: 'NO_ROUTE' });
  });

  it('answers 404 alike for an event outside the scope, an unknown id and a malformed one', async () => {
    const outside = await harness.call('GET', `/v1/events/${ids.signup}`, {
      as: 'shop-viewer',
      operationPath: '/v1/events/{id}',
    });
    const unknown = await harness.call('GET', `/v1/events/${uuidv7()}`, {
      as: 'shop-viewer',
      operationPath: '/v1/events/{id}',
    });
    const malformed = await harness.call('GET', '/v1/events/nope', {
      as: 'shop-viewer',
      operationPath: '/v1/events/{id}',
    });
    for (const response of [outside, unknown, malformed]) {
      expect(response.status).toBe(404);
      expect((response.body as { title: string }).title).toBe('Not found');
    }
  });
});

describe('GET /v1/backlog', () => {
  it('gives the numbers of orchestron outbox stats, and per destination', async () => {
    const response = await harness.call('GET', '/v1/backlog', { as: 'viewer' });
    expect(response.status).toBe(200);
    const backlog = response.body as { pending: number; dead: number; destinations: Array<Record<string, unknown>> };
    expect(backlog).toMatchObject({ pending: 2, dead: 1 });
    expect(backlog.destinations.map((d) => [d.destination, d.pending, d.dead])).toEqual([
      ['audit', 0, 1],
      ['orders', 1, 0],
      ['payments', 1, 0],
    ]);
  });

  it('counts only what a scoped key may see', async () => {
    const response = await harness.call('GET', '/v1/backlog', { as: 'order-viewer' });
    expect(response.body).toMatchObject({ pending: 1, dead: 0 });
    expect(
      (response.body as { destinations: Array<{ destination: string }> }).destinations.map((d) => d.destination),
    ).toEqual(['orders']);
  });
});

describe('dead letters within a scope', () => {
  it('lists, shows and counts a dead letter only for keys that may see its event', async () => {
    const all = await harness.call('GET', '/v1/dead-letters', { as: 'viewer' });
    const items = (all.body as { items: Array<{ id: number; event_id: string }> }).items;
    expect(items.map((d) => d.event_id)).toEqual([ids.signup]);
    const scoped = await harness.call('GET', '/v1/dead-letters', { as: 'shop-viewer' });
    expect((scoped.body as { items: unknown[] }).items).toEqual([]);
    const detail = await harness.call('GET', `/v1/dead-letters/${items[0]!.id}`, {
      as: 'shop-viewer',
      operationPath: '/v1/dead-letters/{id}',
    });
    expect(detail.status).toBe(404);
    const shown = await harness.call('GET', `/v1/dead-letters/${items[0]!.id}`, {
      as: 'viewer',
      operationPath: '/v1/dead-letters/{id}',
    });
    expect(shown.body).toMatchObject({ event_id: ids.signup, payload: { n: 'signup' }, status: 'dead' });
  });
});
