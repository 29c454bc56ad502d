import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Amqp from 'amqplib';
import type { Knex } from 'knex';
import type { ReceivedMessage, Subscription } from '@orchestron/broker';
import { RabbitMqConsumer } from '@orchestron/broker-rabbitmq';
import { notifyOutbox } from '@orchestron/db';
import { amqpUrl, eventually, REPO_ROOT, startApp, type AppProcess } from '@orchestron/testing';

// Helpers of the relay-at-scale tests (relay-*.int.test.ts): seeding large backlogs in SQL,
// counting what a RabbitMQ queue received, and running several relay replicas.

/** The event type of seeded events; the relay publishes it as the message type. */
export const SEEDED_TYPE = 'test.seeded';

/**
 * Writes `count` events and their outbox rows for `exchange` in one statement (seconds for
 * 100,000, where the HTTP API would take minutes), then NOTIFYs the relays. Payload `{n}`,
 * n = 1..count in outbox id order.
 */
export async function seedEvents(db: Knex, options: { count: number; exchange: string }): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw(
      `with e as (
         insert into events (id, source, type, payload, headers)
         select gen_random_uuid(), 'seed', ?, jsonb_build_object('n', g), '{"content-type": "application/json"}'
         from generate_series(1, ?) g
         returning id, (payload ->> 'n')::int as n
       )
       insert into outbox (event_id, broker, destination, routing_key)
       select id, 'rabbitmq', ?, ? from e order by n`,
      [SEEDED_TYPE, options.count, options.exchange, SEEDED_TYPE],
    );
    await notifyOutbox(trx);
  });
}

/**
 * Writes `keys` × `perKey` events with payload `{key, seq}` and partition key `key`
 * (k1..kN), in per-key sequence order: all seq 1 first, then all seq 2, and so on, so every
 * key's outbox ids rise with its seq. Keys for which `flaky(k)` holds get the routing key
 * `flaky.<key>`, the others `steady.<key>`.
 */
export async function seedKeyedEvents(
  db: Knex,
  options: { keys: number; perKey: number; exchange: string; flakyEvery: number },
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw(
      `with e as (
         insert into events (id, source, type, payload, headers)
         select gen_random_uuid(), 'seed', ?, jsonb_build_object('key', 'k' || k, 'seq', s),
                '{"content-type": "application/json"}'
         from generate_series(1, ?) s cross join generate_series(1, ?) k
         returning id, (payload ->> 'seq')::int as seq, substr(payload ->> 'key', 2)::int as k
       )
       insert into outbox (event_id, broker, destination, routing_key, partition_key)
       select id, 'rabbitmq', ?, case when k % ? = 0 then 'flaky.k' else 'steady.k' end || k, 'k' || k
       from e order by seq, k`,
      [SEEDED_TYPE, options.perKey, options.keys, options.exchange, options.flakyEvery],
    );
    await notifyOutbox(trx);
  });
}

export async function outboxByStatus(db: Knex): Promise<Record<string, number>> {
  const rows = (await db('outbox').select('status').count({ n: '*' }).groupBy('status')) as Array<{
    status: string;
    n: number | string;
  }>;
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

export async function eventIds(db: Knex): Promise<Set<string>> {
  const rows = (await db('events').select('id')) as Array<{ id: string }>;
  return new Set(rows.map((r) => r.id));
}

/**
 * Counts what a queue bound to an exchange received, by event id, without keeping the
 * messages (100,000 of them would be a lot of memory). `inspect` sees each message in
 * arrival order.
 */
export class ConsumedEvents {
  readonly copies = new Map<string, number>();
  total = 0;

  private constructor(
    private readonly consumer: RabbitMqConsumer,
    private subscription: Subscription | null,
  ) {}

  /**
   * A server-named queue, deleted with the subscription, bound to `exchange` with `#`. Not a
   * durable queue: RabbitMQ confirms persistent messages in a durable queue only after they
   * reached the disk, which would make the relay wait on fsyncs instead of being measured.
   */
  static async start(
    exchange: string,
    options: { prefetch?: number; inspect?: (message: ReceivedMessage) => void } = {},
  ): Promise<ConsumedEvents> {
    const consumer = new RabbitMqConsumer({ url: amqpUrl(), prefetch: options.prefetch ?? 2_000 });
    const consumed = new ConsumedEvents(consumer, null);
    consumed.subscription = await consumer.subscribe({ destination: exchange, bindingKey: '#' }, (message) => {
      const id = message.id ?? '';
      consumed.copies.set(id, (consumed.copies.get(id) ?? 0) + 1);
      consumed.total++;
      options.inspect?.(message);
    });
    return consumed;
  }

  get distinct(): number {
    return this.copies.size;
  }

  /** Copies beyond the first of each event. */
  get extraCopies(): number {
    return this.total - this.copies.size;
  }

  /** Ids that arrived more than once. */
  duplicatedIds(): string[] {
    return [...this.copies].filter(([, n]) => n > 1).map(([id]) => id);
  }

  async waitForDistinct(count: number, timeoutMs: number): Promise<void> {
    await eventually(() => this.distinct >= count, {
      timeoutMs,
      intervalMs: 250,
      message: () => `received ${this.distinct} of ${count} distinct events (${this.total} messages)`,
    });
  }

  /** Waits until nothing new arrived for `quietMs`: late duplicates would show up by then. */
  async waitForQuiet(quietMs: number, timeoutMs = 30_000): Promise<void> {
    let last = this.total;
    let since = Date.now();
    await eventually(
      () => {
        if (this.total !== last) {
          last = this.total;
          since = Date.now();
        }
        return Date.now() - since >= quietMs;
      },
      { timeoutMs, intervalMs: 100, message: () => 'messages kept arriving' },
    );
  }

  async close(): Promise<void> {
    await this.subscription?.stop();
    await this.consumer.close();
  }
}

// amqplib is a dependency of the RabbitMQ adapter only; the tests load that copy rather than
// adding a dependency of their own, to manage bindings the adapter has no API for.
const amqplib = createRequire(path.join(REPO_ROOT, 'packages', 'broker-rabbitmq', 'package.json'))(
  'amqplib',
) as typeof Amqp;

/** A plain AMQP channel for a test to change bindings between exchanges and delete them. */
export class AmqpAdmin {
  private constructor(
    private readonly connection: Amqp.ChannelModel,
    private readonly channel: Amqp.Channel,
  ) {}

  static async open(): Promise<AmqpAdmin> {
    const connection = await amqplib.connect(amqpUrl());
    connection.on('error', () => undefined);
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return new AmqpAdmin(connection, channel);
  }

  /** A durable topic exchange, as the relay declares its destinations. */
  async assertExchange(exchange: string): Promise<void> {
    await this.channel.assertExchange(exchange, 'topic', { durable: true });
  }

  /** Routes what reaches `source` with a matching routing key on to `destination`. */
  async bindExchange(destination: string, source: string, bindingKey: string): Promise<void> {
    await this.channel.bindExchange(destination, source, bindingKey);
  }

  async unbindExchange(destination: string, source: string, bindingKey: string): Promise<void> {
    await this.channel.unbindExchange(destination, source, bindingKey);
  }

  async deleteExchange(exchange: string): Promise<void> {
    await this.channel.deleteExchange(exchange);
  }

  /** A durable queue with `arguments` (x-max-length, x-overflow, ...), bound to `exchange`. */
  async boundQueue(queue: string, exchange: string, bindingKey: string, args: Record<string, unknown>): Promise<void> {
    await this.channel.assertQueue(queue, { durable: true, arguments: args });
    await this.channel.bindQueue(queue, exchange, bindingKey);
  }

  async messageCount(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.channel.deleteQueue(queue);
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

/** The environment of a relay publishing to RabbitMQ from `databaseUrl`. */
export function relayEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    AMQP_URL: amqpUrl(),
    ORCHESTRON_BROKER_TYPE: 'rabbitmq',
    ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '1s',
    ...extra,
  };
}

/** Relay replicas as separate processes; a killed one can be replaced by a new one. */
export class RelayFleet {
  /** The replicas running now, by slot. */
  readonly replicas: AppProcess[] = [];
  /** Every process ever started, killed ones included (for their output). */
  readonly started: AppProcess[] = [];
  kills = 0;

  constructor(private readonly env: Record<string, string>) {}

  async start(count: number): Promise<void> {
    const replicas = await Promise.all(Array.from({ length: count }, () => this.launch()));
    this.replicas.push(...replicas);
  }

  /** SIGKILLs the replica in `slot` (a crash: no shutdown code runs) and starts a new one there. */
  async killAndReplace(slot: number): Promise<void> {
    const victim = this.replicas[slot];
    if (!victim) throw new Error(`no replica in slot ${slot}`);
    await victim.kill();
    this.kills++;
    this.replicas[slot] = await this.launch();
  }

  /** True when no replica of the current set has exited. */
  allAlive(): boolean {
    return this.replicas.every((r) => r.child.exitCode === null && r.child.signalCode === null);
  }

  /** Sum of `orchestron_outbox_published_total` over a replica's series. */
  static async publishedBy(replica: AppProcess): Promise<number> {
    const text = await (await fetch(`${replica.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('orchestron_outbox_published_total{'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  output(): string {
    return this.started.map((p, i) => `--- relay process ${i}\n${p.output()}`).join('\n');
  }

  async killAll(): Promise<void> {
    await Promise.all(this.started.map((p) => p.kill()));
  }

  private async launch(): Promise<AppProcess> {
    const relay = await startApp('relay', this.env);
    this.started.push(relay);
    return relay;
  }
}

/**
 * Terminates every Postgres backend of the relays on `database` (pool connections and the
 * LISTEN connection alike), as a database failover or an administrator would. Returns how
 * many it terminated.
 */
export async function terminateRelayBackends(db: Knex, database: string): Promise<number> {
  const result = (await db.raw(
    `select count(*) filter (where pg_terminate_backend(pid)) as n
     from pg_stat_activity
     where application_name like 'orchestron-relay%' and datname = ? and pid <> pg_backend_pid()`,
    [database],
  )) as { rows: Array<{ n: string }> };
  return Number(result.rows[0]?.n ?? 0);
}

/** Relay backends connected to `database` now, by application name. */
export async function relayBackends(db: Knex, database: string): Promise<Record<string, number>> {
  const result = (await db.raw(
    `select application_name, count(*) as n from pg_stat_activity
     where application_name like 'orchestron-relay%' and datname = ? group by application_name`,
    [database],
  )) as { rows: Array<{ application_name: string; n: string }> };
  return Object.fromEntries(result.rows.map((r) => [r.application_name, Number(r.n)]));
}
