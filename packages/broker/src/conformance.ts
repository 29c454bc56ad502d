/**
 * The Publisher contract, as a jest suite every adapter runs against its real broker (after
 * Watermill's pubsub/tests): a factory gives each test a fresh publisher, consumer and
 * destination, and feature flags switch off what a broker cannot promise.
 *
 * Only tests import this module (`@orchestron/broker/conformance`): it uses jest globals and
 * is neither exported from the package index nor part of its build.
 *
 * Conventions the adapters' factories rely on:
 * - every message the suite publishes has a routing key starting `conformance.`, and every
 *   subscription binds `conformance.#` (so a RabbitMQ message routed elsewhere is unroutable);
 * - consumer groups the suite uses are named `<destination>.<suffix>`, so `teardown` can
 *   remove them with the destination.
 */
import { randomUUID } from 'node:crypto';
import { BrokerUnavailableError, MessageRejectedError } from './errors';
import type { OutboundMessage, ReceivedMessage } from './message';
import type { Consumer, Publisher, Subscription } from './publisher';

export interface ConformanceFixture {
  /** Not connected yet; the suite calls `connect()` where it matters. */
  readonly publisher: Publisher;
  readonly consumer: Consumer;
  /** A topic/exchange no other test (or test run) uses. */
  readonly destination: string;
  /** Close publisher and consumer (again: close is idempotent) and delete what was created. */
  teardown(): Promise<void>;
}

export interface ConformanceFactory {
  create(): Promise<ConformanceFixture>;
  /**
   * A message the broker refuses on the fixture's destination, built from a valid one
   * (Kafka: larger than the topic's max.message.bytes; RabbitMQ: a routing key no queue is
   * bound for, published mandatory).
   */
  rejectedMessage(valid: OutboundMessage): OutboundMessage;
  /** A publisher for an address where nothing listens, with short connection timeouts. */
  unreachablePublisher(): Publisher;
}

export interface ConformanceFeatures {
  /** Messages with the same destination and key arrive in publish order. */
  readonly ordering: boolean;
  /** Bound on how long publishing to an unreachable broker may take to fail. Default 10 s. */
  readonly unreachableFailsWithinMs?: number;
}

const TEST_TIMEOUT_MS = 60_000;
const DELIVERY_TIMEOUT_MS = 30_000;
/** Quiet period after which a message that did not arrive is taken as never coming. */
const ABSENCE_GRACE_MS = 1_000;

export function describePublisherConformance(
  name: string,
  factory: ConformanceFactory,
  features: ConformanceFeatures,
): void {
  describe(`${name} publisher conformance`, () => {
    const fixtures: ConformanceFixture[] = [];
    const subscriptions: Subscription[] = [];

    async function fixture(): Promise<ConformanceFixture> {
      const created = await factory.create();
      fixtures.push(created);
      return created;
    }

    async function subscribe(f: ConformanceFixture, options: { group?: string } = {}): Promise<Inbox> {
      const inbox = new Inbox();
      const subscription = await f.consumer.subscribe(
        { destination: f.destination, bindingKey: 'conformance.#', fromBeginning: true, ...options },
        (message) => inbox.add(message),
      );
      subscriptions.push(subscription);
      inbox.subscription = subscription;
      return inbox;
    }

    afterEach(async () => {
      await Promise.allSettled(subscriptions.splice(0).map((s) => s.stop()));
      await Promise.allSettled(fixtures.splice(0).map((f) => f.teardown()));
    });

    it('resolves an empty publish with no results, without needing the broker', async () => {
      const unreachable = factory.unreachablePublisher();
      try {
        await expect(unreachable.publish([])).resolves.toEqual([]);
      } finally {
        await unreachable.close();
      }
    });

    it(
      'delivers a published batch complete, with id, type, source, time, content type, key, headers and payload intact',
      async () => {
        const f = await fixture();
        const inbox = await subscribe(f);
        const messages = [
          testMessage(f.destination, { key: 'customer-1', headers: { 'x-request-id': 'req-1' } }),
          testMessage(f.destination, {
            key: null,
            contentType: 'application/octet-stream',
            payload: Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x0a]),
            headers: {},
          }),
          testMessage(f.destination, {
            key: 'clé-ü',
            headers: {
              traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
              'x-text': 'héllo, wörld ✓',
            },
            payload: Buffer.from(JSON.stringify({ nested: { list: [1, 2, 3] }, text: 'ünïcode' })),
          }),
          testMessage(f.destination, { time: new Date('2024-02-29T23:59:59.999Z') }),
          testMessage(f.destination, { payload: Buffer.alloc(0) }),
        ];

        const results = await f.publisher.publish(messages);

        expect(results).toEqual(messages.map(() => ({ ok: true })));
        const received = await inbox.waitForIds(messages.map((m) => m.id));
        for (const sent of messages) {
          expectSameMessage(received.get(sent.id), sent);
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'resolves with one result per message, in input order',
      async () => {
        const f = await fixture();
        await subscribe(f);
        const messages = batch(f.destination, 40, 'order');
        messages.splice(17, 0, factory.rejectedMessage(testMessage(f.destination)));

        const results = await f.publisher.publish(messages);

        expect(results).toHaveLength(messages.length);
        expect(results.map((r) => r.ok)).toEqual(messages.map((_, i) => i !== 17));
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'resolves only once the broker has the messages: a subscriber that comes back right after gets them all',
      async () => {
        const f = await fixture();
        const group = `${f.destination}.ack`;
        // Create the group (RabbitMQ: its durable queue, bound) and leave it, so that nothing
        // reads while publishing: what the group finds afterwards is what the broker stored.
        const before = await subscribe(f, { group });
        await before.subscription?.stop();
        await f.publisher.connect();
        const messages = batch(f.destination, 30, 'ack');

        const results = await f.publisher.publish(messages);

        expect(results.every((r) => r.ok)).toBe(true);
        const after = await subscribe(f, { group });
        const received = await after.waitForIds(messages.map((m) => m.id));
        expect(received.size).toBe(messages.length);
      },
      TEST_TIMEOUT_MS,
    );

    (features.ordering ? it : it.skip)(
      'keeps messages with the same key in publish order, within a call and across calls',
      async () => {
        const f = await fixture();
        const inbox = await subscribe(f);
        const keys = ['key-a', 'key-b', 'key-c'];
        const sent: OutboundMessage[] = [];
        for (let call = 0; call < 3; call += 1) {
          const messages = Array.from({ length: 30 }, (_, i) => {
            const seq = call * 30 + i;
            return testMessage(f.destination, {
              key: keys[seq % keys.length] ?? null,
              headers: { 'x-seq': String(seq) },
            });
          });
          sent.push(...messages);
          const results = await f.publisher.publish(messages);
          expect(results.every((r) => r.ok)).toBe(true);
        }

        await inbox.waitForIds(sent.map((m) => m.id));
        for (const key of keys) {
          const order = inbox.messages.filter((m) => m.key === key).map((m) => Number(m.headers['x-seq']));
          expect(order).toEqual(sent.filter((m) => m.key === key).map((m) => Number(m.headers['x-seq'])));
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'accepts concurrent publish calls and delivers every message of each',
      async () => {
        const f = await fixture();
        const inbox = await subscribe(f);
        const calls = Array.from({ length: 8 }, (_, c) => batch(f.destination, 25, `concurrent-${c}`));

        const results = await Promise.all(calls.map((messages) => f.publisher.publish(messages)));

        results.forEach((r, c) => expect(r).toEqual(calls[c]?.map(() => ({ ok: true }))));
        const ids = calls.flat().map((m) => m.id);
        const received = await inbox.waitForIds(ids);
        expect(received.size).toBe(ids.length);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'gives a refused message a MessageRejectedError while the rest of the batch is published',
      async () => {
        const f = await fixture();
        const inbox = await subscribe(f);
        const [first, last] = batch(f.destination, 2, 'around-rejected');
        const refused = factory.rejectedMessage(testMessage(f.destination, { key: 'refused' }));
        if (!first || !last) throw new Error('batch() returned too few messages');

        const results = await f.publisher.publish([first, refused, last]);

        expect(results[0]).toEqual({ ok: true });
        expect(results[2]).toEqual({ ok: true });
        const rejection = results[1];
        expect(rejection?.ok).toBe(false);
        const error = rejection && !rejection.ok ? rejection.error : undefined;
        expect(error).toBeInstanceOf(MessageRejectedError);
        expect(error?.message).toBeTruthy();
        await inbox.waitForIds([first.id, last.id]);
        await sleep(ABSENCE_GRACE_MS);
        expect(inbox.messages.map((m) => m.id)).not.toContain(refused.id);
        // The publisher is still usable after a rejection.
        const again = testMessage(f.destination);
        await expect(f.publisher.publish([again])).resolves.toEqual([{ ok: true }]);
        await inbox.waitForIds([again.id]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'waits for publishes in flight on close, and close is idempotent',
      async () => {
        const f = await fixture();
        const inbox = await subscribe(f);
        await f.publisher.connect();
        const messages = batch(f.destination, 50, 'close');
        let publishSettled = false;

        const publishing = f.publisher.publish(messages);
        void publishing
          .finally(() => {
            publishSettled = true;
          })
          .catch(() => undefined);
        const closing = [f.publisher.close(), f.publisher.close()];
        await Promise.all(closing);

        expect(publishSettled).toBe(true);
        await expect(publishing).resolves.toEqual(messages.map(() => ({ ok: true })));
        await expect(f.publisher.close()).resolves.toBeUndefined();
        expect(f.publisher.isHealthy()).toBe(false);
        await expect(f.publisher.publish([testMessage(f.destination)])).rejects.toBeInstanceOf(BrokerUnavailableError);
        await inbox.waitForIds(messages.map((m) => m.id));
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'reports healthy once connected',
      async () => {
        const f = await fixture();
        await f.publisher.connect();
        expect(f.publisher.isHealthy()).toBe(true);
        await f.publisher.connect(); // connecting again is harmless
        expect(f.publisher.isHealthy()).toBe(true);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'answers a probe while the broker is up, delivering nothing to the destination, and fails it while unreachable',
      async () => {
        const f = await fixture();
        const inbox = await subscribe(f);
        await expect(f.publisher.probe()).resolves.toBeUndefined();
        const marker = testMessage(f.destination);
        await f.publisher.publish([marker]);
        await inbox.waitForIds([marker.id]);
        // The probe itself reached no consumer of the destination.
        expect(inbox.messages.map((m) => m.id)).toEqual([marker.id]);

        const unreachable = factory.unreachablePublisher();
        try {
          await expect(unreachable.probe()).rejects.toBeInstanceOf(BrokerUnavailableError);
        } finally {
          await unreachable.close();
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'rejects with BrokerUnavailableError, quickly, when the broker is unreachable',
      async () => {
        const limit = features.unreachableFailsWithinMs ?? 10_000;
        const publisher = factory.unreachablePublisher();
        try {
          const started = Date.now();
          await expect(publisher.publish([testMessage('conformance-unreachable')])).rejects.toBeInstanceOf(
            BrokerUnavailableError,
          );
          expect(Date.now() - started).toBeLessThan(limit);
          expect(publisher.isHealthy()).toBe(false);

          const again = Date.now();
          await expect(publisher.connect()).rejects.toBeInstanceOf(BrokerUnavailableError);
          await expect(publisher.publish([testMessage('conformance-unreachable')])).rejects.toBeInstanceOf(
            BrokerUnavailableError,
          );
          expect(Date.now() - again).toBeLessThan(2 * limit);
        } finally {
          await publisher.close();
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'stops a subscription idempotently',
      async () => {
        const f = await fixture();
        const inbox = await subscribe(f);
        const subscription = inbox.subscription;
        if (!subscription) throw new Error('no subscription');
        await Promise.all([subscription.stop(), subscription.stop()]);
        await expect(subscription.stop()).resolves.toBeUndefined();
      },
      TEST_TIMEOUT_MS,
    );
  });
}

/** A valid message for `destination`, unique id; fields overridable. */
export function testMessage(destination: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  const id = randomUUID();
  return {
    id,
    type: 'com.example.conformance.tested',
    source: '/conformance',
    time: new Date(),
    contentType: 'application/json',
    destination,
    routingKey: 'conformance.tested',
    key: 'key-1',
    headers: { 'x-request-id': `req-${id}` },
    payload: Buffer.from(JSON.stringify({ id })),
    ...overrides,
  };
}

function batch(destination: string, count: number, label: string): OutboundMessage[] {
  return Array.from({ length: count }, (_, i) =>
    testMessage(destination, { routingKey: `conformance.${label}`, key: `${label}-${i % 4}` }),
  );
}

function expectSameMessage(received: ReceivedMessage | undefined, sent: OutboundMessage): void {
  expect(received).toBeDefined();
  if (!received) return;
  expect(received.id).toBe(sent.id);
  expect(received.type).toBe(sent.type);
  expect(received.source).toBe(sent.source);
  expect(received.time?.toISOString()).toBe(sent.time.toISOString());
  expect(received.contentType).toBe(sent.contentType);
  expect(received.key).toBe(sent.key);
  if (received.routingKey !== null) expect(received.routingKey).toBe(sent.routingKey);
  expect(received.headers).toMatchObject(sent.headers);
  expect(received.payload.equals(sent.payload)).toBe(true);
}

/** Collects what a subscription receives, in arrival order. */
class Inbox {
  readonly messages: ReceivedMessage[] = [];
  subscription: Subscription | null = null;

  add(message: ReceivedMessage): void {
    this.messages.push(message);
  }

  /** Waits until every id has arrived; returns them by id. Fails with what is missing. */
  async waitForIds(ids: readonly string[], timeoutMs = DELIVERY_TIMEOUT_MS): Promise<Map<string, ReceivedMessage>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const byId = new Map(this.messages.map((m) => [m.id ?? '', m]));
      const missing = ids.filter((id) => !byId.has(id));
      if (missing.length === 0) return byId;
      if (Date.now() > deadline) {
        throw new Error(
          `${missing.length} of ${ids.length} messages not received within ${timeoutMs} ms ` +
            `(received ${this.messages.length} in all)`,
        );
      }
      await sleep(25);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
