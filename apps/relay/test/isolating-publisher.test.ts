import {
  BrokerUnavailableError,
  MessageRejectedError,
  type OutboundMessage,
  type PublishResult,
  type Publisher,
} from '@orchestron/broker';
import { testMessage } from '@orchestron/broker/conformance';
import { IsolatingPublisher } from '../src/isolating-publisher';

/**
 * A broker in memory with a fault a test injects: every call carrying the poisoned message
 * fails as a whole, as if the connection dropped; the others are stored. `down` makes every
 * call and probe fail, as in an outage.
 */
class FaultyBroker implements Publisher {
  readonly stored: string[] = [];
  readonly calls: number[] = [];
  probes = 0;
  down = false;
  /** While down: whether the calls fail as "no connection could be made" (unreachable). */
  unreachable = false;
  constructor(private readonly poisoned: Set<string>) {}

  connect(): Promise<void> {
    return Promise.resolve();
  }

  publish(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
    this.calls.push(messages.length);
    if (this.down) {
      return Promise.reject(new BrokerUnavailableError('connection refused', { unreachable: this.unreachable }));
    }
    if (messages.some((m) => this.poisoned.has(m.id))) {
      return Promise.reject(new BrokerUnavailableError('channel closed by the broker'));
    }
    this.stored.push(...messages.map((m) => m.id));
    return Promise.resolve(messages.map(() => ({ ok: true as const })));
  }

  probe(): Promise<void> {
    this.probes += 1;
    return this.down ? Promise.reject(new BrokerUnavailableError('connection refused')) : Promise.resolve();
  }

  isHealthy(): boolean {
    return !this.down;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const batch = (n: number): OutboundMessage[] => Array.from({ length: n }, () => testMessage('events'));

function decorate(broker: Publisher): { publisher: IsolatingPublisher; warnings: Array<Record<string, unknown>> } {
  const warnings: Array<Record<string, unknown>> = [];
  const publisher = new IsolatingPublisher(broker, { warn: (_message, meta) => warnings.push(meta ?? {}) });
  return { publisher, warnings };
}

describe('IsolatingPublisher', () => {
  it('asks no probe while the adapter could not connect at all: an outage, however often it repeats', async () => {
    const broker = new FaultyBroker(new Set());
    broker.down = true;
    broker.unreachable = true;
    const { publisher } = decorate(broker);

    for (let i = 0; i < 4; i += 1) await expect(publisher.publish(batch(4))).rejects.toThrow(BrokerUnavailableError);
    expect(broker.probes).toBe(0);
    expect(broker.calls).toEqual([4, 4, 4, 4]);
  });

  it('passes a failure through the first time: one failed call is an outage until it repeats', async () => {
    const messages = batch(8);
    const broker = new FaultyBroker(new Set([messages[5]!.id]));
    const { publisher } = decorate(broker);

    await expect(publisher.publish(messages)).rejects.toThrow(BrokerUnavailableError);
    expect(broker.stored).toEqual([]);
    expect(broker.probes).toBe(0);
  });

  it('rejects only the row that fails alone once the batch keeps failing while the broker answers', async () => {
    const messages = batch(16);
    const poison = messages[5]!;
    const broker = new FaultyBroker(new Set([poison.id]));
    const { publisher, warnings } = decorate(broker);
    await expect(publisher.publish(messages)).rejects.toThrow(BrokerUnavailableError);

    const results = await publisher.publish(messages);

    expect(results.map((r) => r.ok)).toEqual(messages.map((m) => m.id !== poison.id));
    const rejected = results[5] as { ok: false; error: Error };
    expect(rejected.error).toBeInstanceOf(MessageRejectedError);
    expect(rejected.error).toMatchObject({ reason: 'isolated' });
    expect(rejected.error.message).toMatch(/^isolated: .*channel closed by the broker/);
    // Every other message stored exactly once, in order.
    expect(broker.stored).toEqual(messages.filter((m) => m !== poison).map((m) => m.id));
    expect(warnings).toEqual([expect.objectContaining({ eventId: poison.id, destination: 'events', batchSize: 16 })]);
    // Two whole-batch calls, then halves down to the single row: 2 per level.
    expect(broker.calls.length).toBeLessThanOrEqual(2 + 2 * Math.ceil(Math.log2(16)));
  });

  it('finds several offending rows of one batch', async () => {
    const messages = batch(10);
    const broker = new FaultyBroker(new Set([messages[0]!.id, messages[9]!.id]));
    const { publisher } = decorate(broker);
    await publisher.publish(messages).catch(() => undefined);

    const results = await publisher.publish(messages);

    expect(results.map((r) => r.ok)).toEqual(messages.map((_, i) => i !== 0 && i !== 9));
    expect(broker.stored).toHaveLength(8);
  });

  it('rejects a batch of one row that keeps failing while the probe succeeds', async () => {
    const [only] = batch(1);
    const broker = new FaultyBroker(new Set([only!.id]));
    const { publisher } = decorate(broker);
    await publisher.publish([only!]).catch(() => undefined);

    const results = await publisher.publish([only!]);

    expect(results).toEqual([{ ok: false, error: expect.objectContaining({ reason: 'isolated' }) }]);
  });

  it('treats repeated failures as an outage when the probe fails: nothing is rejected', async () => {
    const messages = batch(8);
    const broker = new FaultyBroker(new Set());
    broker.down = true;
    const { publisher } = decorate(broker);

    for (let i = 0; i < 4; i++) await expect(publisher.publish(messages)).rejects.toThrow('connection refused');

    // No splitting during an outage: one call per publish, and a probe from the second on.
    expect(broker.calls).toEqual([8, 8, 8, 8]);
    expect(broker.probes).toBe(3);
  });

  it('fails as an outage when every row of a batch fails alone, instead of rejecting them all', async () => {
    const messages = batch(4);
    const broker = new FaultyBroker(new Set(messages.map((m) => m.id)));
    const { publisher } = decorate(broker);
    await publisher.publish(messages).catch(() => undefined);

    await expect(publisher.publish(messages)).rejects.toThrow(BrokerUnavailableError);
  });

  it('stops splitting when the broker goes down in the middle', async () => {
    const messages = batch(8);
    const broker = new FaultyBroker(new Set([messages[7]!.id]));
    const { publisher } = decorate(broker);
    await publisher.publish(messages).catch(() => undefined);
    const probe = broker.probe.bind(broker);
    let probes = 0;
    // The first probe (before splitting) succeeds, then the broker is gone.
    broker.probe = () => {
      probes += 1;
      if (probes > 1) broker.down = true;
      return probe();
    };

    await expect(publisher.publish(messages)).rejects.toThrow(BrokerUnavailableError);
  });
});
