import { randomInt } from 'node:crypto';
import { createTestDatabase, eventually, type TestDatabase } from '@orchestron/testing';
import { uniqueName } from './harness';
import {
  AmqpAdmin,
  ConsumedEvents,
  eventIds,
  outboxByStatus,
  relayEnv,
  RelayFleet,
  seedKeyedEvents,
} from './relay-harness';

// outbox.ordering = partition_key under fire: three relay replicas drain 1,000 keys × 100
// events while replicas are SIGKILLed (and replaced) and the events of every tenth key are
// rejected for a while. The rejections are real: those keys are published with routing key
// `flaky.<key>`, and the `flaky.#` binding is removed for a few seconds, so RabbitMQ
// returns them as unroutable (mandatory), the relay counts a failed attempt and retries with
// backoff. The consumer checks that no key's sequence ever goes backwards.
//
// Topology: the relay publishes to `exchange`; it is bound with `steady.#` and `flaky.#` to
// a second exchange, `inbox`, where the consumer's queue is bound with `#`. Removing the
// `flaky.#` exchange-to-exchange binding leaves flaky messages with no route.

const KEYS = 1_000;
const PER_KEY = 100;
const EVENTS = KEYS * PER_KEY;
const FLAKY_EVERY = 10;
const BATCH_SIZE = 250;
const CONCURRENCY = 2;

let database: TestDatabase;
let fleet: RelayFleet | null = null;
let consumed: ConsumedEvents | null = null;
let admin: AmqpAdmin;
const exchange = uniqueName('orchestron_relay_ordering');
const inbox = uniqueName('orchestron_relay_ordering_inbox');

beforeAll(async () => {
  database = await createTestDatabase('e2e_relay_ordering');
  admin = await AmqpAdmin.open();
});

afterAll(async () => {
  await fleet?.killAll();
  await consumed?.close();
  await admin.deleteExchange(exchange).catch(() => undefined);
  await admin.deleteExchange(inbox).catch(() => undefined);
  await admin.close();
  await database.drop();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('relay with ordering partition_key', () => {
  it("publishes each key's events in order across replicas, SIGKILLs and retries, and loses none", async () => {
    const lastSeq = new Map<string, number>();
    const seen = new Map<string, Set<number>>();
    const backwards: string[] = [];
    consumed = await ConsumedEvents.start(inbox, {
      prefetch: 5_000,
      inspect: (message) => {
        const { key, seq } = JSON.parse(message.payload.toString()) as { key: string; seq: number };
        // A duplicate after a crash may repeat the latest seq of its key, never an older one.
        const last = lastSeq.get(key) ?? 0;
        if (seq < last) backwards.push(`${key}: ${seq} after ${last}`);
        lastSeq.set(key, Math.max(last, seq));
        const seqs = seen.get(key) ?? new Set<number>();
        seqs.add(seq);
        seen.set(key, seqs);
      },
    });
    await admin.assertExchange(exchange);
    await admin.bindExchange(inbox, exchange, 'steady.#');
    await admin.bindExchange(inbox, exchange, 'flaky.#');

    fleet = new RelayFleet(
      relayEnv(database.url, {
        ORCHESTRON_OUTBOX_ORDERING: 'partition_key',
        ORCHESTRON_OUTBOX_BATCH_SIZE: String(BATCH_SIZE),
        ORCHESTRON_OUTBOX_CONCURRENCY: String(CONCURRENCY),
        ORCHESTRON_OUTBOX_RETRY_BASE_DELAY: '200ms',
        ORCHESTRON_OUTBOX_RETRY_MAX_DELAY: '1s',
        // High enough that the outage of the binding never dead-letters anything.
        ORCHESTRON_ROUTING_MAX_RETRIES: '1000',
      }),
    );
    await fleet.start(3);
    const started = Date.now();
    await seedKeyedEvents(database.db, { keys: KEYS, perKey: PER_KEY, exchange, flakyEvery: FLAKY_EVERY });

    const reach = (count: number): Promise<void> =>
      eventually(() => consumed!.distinct >= count, {
        timeoutMs: 60_000,
        message: () => `only ${consumed!.distinct} of ${count} received`,
      });
    const killOne = (): Promise<void> => fleet!.killAndReplace(randomInt(fleet!.replicas.length));

    // Kills at random points of the drain, one of them while the flaky keys are failing.
    await reach(5_000 + randomInt(10_000));
    await killOne();
    await reach(20_000 + randomInt(5_000));
    await admin.unbindExchange(inbox, exchange, 'flaky.#');
    await sleep(1_000 + randomInt(1_000));
    await killOne();
    await sleep(1_000 + randomInt(1_000));
    await admin.bindExchange(inbox, exchange, 'flaky.#');
    await reach(40_000 + randomInt(20_000));
    await killOne();
    await reach(65_000 + randomInt(20_000));
    await killOne();

    await consumed.waitForDistinct(EVENTS, 90_000);
    const drained = Date.now() - started;
    await consumed.waitForQuiet(1_500);
    const retried = (await database.db('outbox').where('attempts', '>', 1).count({ n: '*' })) as Array<{
      n: string;
    }>;
    process.stderr.write(
      `relay-ordering: ${EVENTS} events drained in ${drained} ms with ${fleet.kills} kills; ` +
        `${Number(retried[0]?.n)} rows needed more than one attempt; ${consumed.extraCopies} duplicate copies\n`,
    );

    expect(backwards).toEqual([]);
    expect(consumed.distinct).toBe(EVENTS);
    expect(seen.size).toBe(KEYS);
    expect([...seen.values()].every((seqs) => seqs.size === PER_KEY)).toBe(true);
    const ids = await eventIds(database.db);
    expect([...consumed.copies.keys()].every((id) => ids.has(id))).toBe(true);
    expect(consumed.extraCopies).toBeLessThanOrEqual(fleet.kills * BATCH_SIZE * CONCURRENCY);
    // The failures were real: the flaky keys' heads were rejected and retried...
    expect(Number(retried[0]?.n)).toBeGreaterThan(0);
    // ...and none was given up on.
    expect(await outboxByStatus(database.db)).toEqual({ published: EVENTS });
    expect(await database.db('dead_letter_queue').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(fleet.allAlive()).toBe(true);
  });
});
