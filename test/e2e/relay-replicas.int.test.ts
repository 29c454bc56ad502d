import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { uniqueName } from './harness';
import { AmqpAdmin, ConsumedEvents, eventIds, outboxByStatus, relayEnv, RelayFleet, seedEvents } from './relay-harness';

// Relay at scale, without faults: several relay processes, each with several claim loops,
// drain one large backlog together. SKIP LOCKED must give every row to exactly one loop.

const EVENTS = 100_000;
const BATCH_SIZE = 500;

let database: TestDatabase;
let fleet: RelayFleet | null = null;
let consumed: ConsumedEvents | null = null;
let exchange: string;

beforeAll(async () => {
  database = await createTestDatabase('e2e_relay_replicas');
});

afterAll(async () => {
  await fleet?.killAll();
  await consumed?.close();
  const admin = await AmqpAdmin.open();
  await admin.deleteExchange(exchange).catch(() => undefined);
  await admin.close();
  await database.drop();
});

describe('relay replicas', () => {
  it('publishes 100,000 events exactly once with 3 replicas of 2 claim loops each, losing none', async () => {
    exchange = uniqueName('orchestron_relay_replicas');
    consumed = await ConsumedEvents.start(exchange, { prefetch: 5_000 });
    fleet = new RelayFleet(
      relayEnv(database.url, {
        ORCHESTRON_OUTBOX_BATCH_SIZE: String(BATCH_SIZE),
        ORCHESTRON_OUTBOX_CONCURRENCY: '2',
      }),
    );
    await fleet.start(3);

    const started = Date.now();
    await seedEvents(database.db, { count: EVENTS, exchange });
    const seeded = Date.now();
    await consumed.waitForDistinct(EVENTS, 90_000);
    const drained = Date.now();
    await consumed.waitForQuiet(1_000);
    process.stderr.write(
      `relay-replicas: seeded ${EVENTS} in ${seeded - started} ms, all received ${drained - started} ms after the start of seeding\n`,
    );

    const ids = await eventIds(database.db);
    expect(consumed.total).toBe(EVENTS);
    expect(consumed.distinct).toBe(EVENTS);
    expect([...consumed.copies.keys()].every((id) => ids.has(id))).toBe(true);
    expect(await outboxByStatus(database.db)).toEqual({ published: EVENTS });

    // The work was really shared: every replica published part of it.
    const perReplica = await Promise.all(fleet.replicas.map((r) => RelayFleet.publishedBy(r)));
    expect(perReplica.reduce((a, b) => a + b, 0)).toBe(EVENTS);
    expect(perReplica.every((n) => n > 0)).toBe(true);
    expect(fleet.allAlive()).toBe(true);
  });
});
