import { randomInt } from 'node:crypto';
import { createTestDatabase, eventually, postgresUrl, TcpProxy, type TestDatabase } from '@orchestron/testing';
import { uniqueName } from './harness';
import {
  AmqpAdmin,
  ConsumedEvents,
  eventIds,
  outboxByStatus,
  relayBackends,
  relayEnv,
  RelayFleet,
  seedEvents,
  terminateRelayBackends,
} from './relay-harness';

// Relay crash safety against real processes and the real Postgres and RabbitMQ: replicas
// killed with SIGKILL mid-batch, Postgres backends terminated under the relay's feet, and a
// Postgres outage. The outage is simulated with a TCP proxy between relay and Postgres that
// is cut and restored: restarting the shared Postgres would break every other test running
// against it, and to the relay a cut proxy looks the same as a restarting server (open
// connections drop, new ones are refused until it is back).

const BATCH_SIZE = 500;
const CONCURRENCY = 2;

let database: TestDatabase;
let fleet: RelayFleet | null = null;
const consumers: ConsumedEvents[] = [];
const exchanges: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase('e2e_relay_crash');
});

beforeEach(async () => {
  await database.db.raw('truncate events, dead_letter_queue cascade');
});

afterEach(async () => {
  await fleet?.killAll();
  fleet = null;
  await Promise.all(consumers.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  const admin = await AmqpAdmin.open();
  for (const exchange of exchanges) await admin.deleteExchange(exchange).catch(() => undefined);
  await admin.close();
  await database.drop();
});

/** Copies of one event that differ from its first copy, by event id. */
const inconsistentCopies: string[] = [];

async function consume(exchange: string, checkCopies = false): Promise<ConsumedEvents> {
  const firstPayload = new Map<string, string>();
  const consumed = await ConsumedEvents.start(exchange, {
    prefetch: 5_000,
    // Every copy of an event must be that event: same id, same payload.
    inspect: checkCopies
      ? (message) => {
          const payload = message.payload.toString();
          const first = firstPayload.get(message.id ?? '');
          if (first === undefined) firstPayload.set(message.id ?? '', payload);
          else if (first !== payload) inconsistentCopies.push(message.id ?? '');
        }
      : undefined,
  });
  consumers.push(consumed);
  return consumed;
}

function newExchange(): string {
  const exchange = uniqueName('orchestron_relay_crash');
  exchanges.push(exchange);
  return exchange;
}

async function pendingRows(): Promise<number> {
  return (await outboxByStatus(database.db)).pending ?? 0;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function ready(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/ready`)).status;
  } catch {
    return 0;
  }
}

describe('relay crash safety', () => {
  it('loses nothing when replicas are SIGKILLed mid-batch again and again; duplicates come only from killed batches', async () => {
    const exchange = newExchange();
    const consumed = await consume(exchange, true);
    fleet = new RelayFleet(
      relayEnv(database.url, {
        ORCHESTRON_OUTBOX_BATCH_SIZE: String(BATCH_SIZE),
        ORCHESTRON_OUTBOX_CONCURRENCY: String(CONCURRENCY),
      }),
    );
    await fleet.start(3);

    // Waves of load, each with a kill of a random replica once the wave is being drained.
    const waves = 6;
    // Large enough that a wave takes several rounds of 3 x 2 loops x 500 rows: the relays mark
    // rows published batch by batch, so the backlog shrinks in steps of up to 3 000.
    const perWave = 30_000;
    const pendingAtKill: number[] = [];
    for (let wave = 0; wave < waves; wave++) {
      await seedEvents(database.db, { count: perWave, exchange });
      // Judged by the outbox, closely, not by the consumer: the relays drain a wave in a few
      // hundred milliseconds, and the consumer can lag far behind them on a loaded machine.
      const draining = perWave - 1_000 - randomInt(2_000);
      await eventually(async () => (await pendingRows()) <= draining, {
        timeoutMs: 30_000,
        intervalMs: 5,
        message: () => `wave ${wave}: the relays did not start draining it`,
      });
      pendingAtKill.push(await pendingRows());
      await fleet.killAndReplace(randomInt(fleet.replicas.length));
    }
    const total = waves * perWave;
    await consumed.waitForDistinct(total, 90_000);
    await consumed.waitForQuiet(1_500);
    process.stderr.write(
      `relay-crash-safety: ${fleet.kills} kills at pending ${pendingAtKill.join(', ')}; ` +
        `${consumed.extraCopies} duplicate copies of ${consumed.duplicatedIds().length} events\n`,
    );

    // Every kill came while the backlog was being drained, so the loops had batches in flight.
    expect(pendingAtKill.every((n) => n > 0)).toBe(true);
    const ids = await eventIds(database.db);
    expect(consumed.distinct).toBe(total);
    expect([...consumed.copies.keys()].every((id) => ids.has(id))).toBe(true);
    expect(inconsistentCopies).toEqual([]);
    // A duplicate can only come from a batch a killed process had published but not committed.
    expect(consumed.extraCopies).toBeLessThanOrEqual(fleet.kills * BATCH_SIZE * CONCURRENCY);
    expect(await outboxByStatus(database.db)).toEqual({ published: total });
    // A crash rolls its batch back: no attempt was counted against any event.
    const [attempts] = (await database.db('outbox').max({ max: 'attempts' })) as Array<{ max: number }>;
    expect(attempts?.max).toBe(1);
    expect(fleet.allAlive()).toBe(true);
  });

  it('carries on by itself when Postgres terminates its backends, under load and while idle', async () => {
    const exchange = newExchange();
    const consumed = await consume(exchange);
    // A long poll interval: once idle, only a NOTIFY on a re-established LISTEN wakes the loops.
    fleet = new RelayFleet(
      relayEnv(database.url, {
        ORCHESTRON_OUTBOX_BATCH_SIZE: String(BATCH_SIZE),
        ORCHESTRON_OUTBOX_CONCURRENCY: String(CONCURRENCY),
        ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '60s',
        ORCHESTRON_OUTBOX_BROKER_BACKOFF_MAX: '1s',
      }),
    );
    await fleet.start(2);

    const underLoad = 30_000;
    await seedEvents(database.db, { count: underLoad, exchange });
    let terminated = 0;
    for (let round = 0; round < 3; round++) {
      await eventually(() => consumed.distinct >= (round + 1) * 5_000, {
        timeoutMs: 30_000,
        message: () => `only ${consumed.distinct} received before termination round ${round}`,
      });
      terminated += await terminateRelayBackends(database.db, database.name);
    }
    expect(terminated).toBeGreaterThanOrEqual(6);
    await consumed.waitForDistinct(underLoad, 60_000);

    // Idle now: terminate the pooled connections and the LISTEN connections, wait for the
    // listeners to come back, then see that a NOTIFY alone gets new events out.
    await eventually(async () => (await relayBackends(database.db, database.name))['orchestron-relay-listener'] === 2, {
      timeoutMs: 30_000,
      message: () => 'the LISTEN connections did not come back after the terminations under load',
    });
    expect(await terminateRelayBackends(database.db, database.name)).toBeGreaterThanOrEqual(2);
    await eventually(async () => (await relayBackends(database.db, database.name))['orchestron-relay-listener'] === 2, {
      timeoutMs: 30_000,
      message: () => 'the LISTEN connections did not come back',
    });
    // Counted only now: a claim the termination itself cut off (the loops were woken by the
    // listeners coming back from the rounds under load) may log its failure a little later.
    const failuresBefore = fleet.output().split('batch failed').length;
    await seedEvents(database.db, { count: 100, exchange });
    await consumed.waitForDistinct(underLoad + 100, 10_000);
    // The pool had dropped its terminated idle connections: the first claims after that did
    // not fail on a dead connection.
    expect(fleet.output().split('batch failed').length).toBe(failuresBefore);

    await consumed.waitForQuiet(1_000);
    expect(await outboxByStatus(database.db)).toEqual({ published: underLoad + 100 });
    expect([...consumed.copies.keys()].every(Boolean)).toBe(true);
    expect(fleet.output()).toContain('outbox listener reconnected');
    expect(fleet.allAlive()).toBe(true);
  });

  it('survives a Postgres outage: not ready meanwhile, carries on when it is back', async () => {
    const target = new URL(postgresUrl());
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    try {
      const exchange = newExchange();
      const consumed = await consume(exchange);
      const viaProxy = new URL(database.url);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      fleet = new RelayFleet(
        relayEnv(viaProxy.toString(), {
          ORCHESTRON_OUTBOX_BATCH_SIZE: String(BATCH_SIZE),
          ORCHESTRON_OUTBOX_CONCURRENCY: String(CONCURRENCY),
          ORCHESTRON_OUTBOX_BROKER_BACKOFF_MAX: '1s',
        }),
      );
      await fleet.start(1);
      const [relay] = fleet.replicas;
      await eventually(async () => (await ready(relay!.url)) === 200, {
        timeoutMs: 10_000,
        message: () => 'relay never became ready',
      });

      const total = 20_000;
      await seedEvents(database.db, { count: total, exchange });
      await eventually(() => consumed.distinct >= 2_000, {
        timeoutMs: 30_000,
        message: () => `only ${consumed.distinct} received before the outage`,
      });

      await proxy.cut();
      await eventually(async () => (await ready(relay!.url)) === 503, {
        timeoutMs: 10_000,
        message: () => 'relay /ready did not report the database outage',
      });
      const duringOutage = consumed.total;
      await sleep(4_000);
      // Nothing could be claimed meanwhile (a batch already published when its connection
      // dropped may still land: it is claimed again later, a duplicate of that batch only).
      expect(consumed.total - duringOutage).toBeLessThanOrEqual(BATCH_SIZE * CONCURRENCY);
      expect(await ready(relay!.url)).toBe(503);
      expect(fleet.allAlive()).toBe(true);
      expect(await pendingRows()).toBeGreaterThan(0);

      await proxy.restore();
      await eventually(async () => (await ready(relay!.url)) === 200, {
        timeoutMs: 15_000,
        message: () => 'relay did not become ready again',
      });
      await consumed.waitForDistinct(total, 60_000);
      await eventually(async () => (await outboxByStatus(database.db)).published === total, {
        timeoutMs: 10_000,
        message: () => 'outbox rows not all marked published',
      });
      const ids = await eventIds(database.db);
      expect([...consumed.copies.keys()].every((id) => ids.has(id))).toBe(true);
      // Duplicates: at most the batches in flight when the connections dropped.
      expect(consumed.extraCopies).toBeLessThanOrEqual(BATCH_SIZE * CONCURRENCY);
      expect(fleet.allAlive()).toBe(true);
      expect(relay!.output()).not.toMatch(/unhandled|uncaught/i);
    } finally {
      await proxy.close();
    }
  });

  it('starts while Postgres is unreachable, not ready, and publishes once it is reachable', async () => {
    const target = new URL(postgresUrl());
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    try {
      const exchange = newExchange();
      const consumed = await consume(exchange);
      await seedEvents(database.db, { count: 1_000, exchange });
      await proxy.cut();
      const viaProxy = new URL(database.url);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      fleet = new RelayFleet(relayEnv(viaProxy.toString(), { ORCHESTRON_OUTBOX_BROKER_BACKOFF_MAX: '1s' }));
      await fleet.start(1);
      const [relay] = fleet.replicas;
      expect(await ready(relay!.url)).toBe(503);
      await sleep(2_000);
      expect(consumed.total).toBe(0);
      expect(fleet.allAlive()).toBe(true);

      await proxy.restore();
      await consumed.waitForDistinct(1_000, 20_000);
      expect(await ready(relay!.url)).toBe(200);
      expect(fleet.allAlive()).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});
