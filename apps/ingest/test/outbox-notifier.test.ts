import { OutboxNotifier } from '../src/outbox-notifier';

/** A NOTIFY the test completes by hand, to see what the notifier does while one is in flight. */
function controllableNotify() {
  const calls: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const notify = () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, notify };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const quietLogger = { warn: jest.fn() };

describe('OutboxNotifier', () => {
  it('notifies once for a poke', async () => {
    const { calls, notify } = controllableNotify();
    const notifier = new OutboxNotifier(notify, quietLogger, 0);
    notifier.poke();
    expect(calls).toHaveLength(0); // not before the poking request has answered
    await flush();
    expect(calls).toHaveLength(1);
    calls[0]?.resolve();
    await notifier.idle();
    expect(calls).toHaveLength(1);
  });

  it('coalesces the pokes made while a NOTIFY is in flight into exactly one more', async () => {
    const { calls, notify } = controllableNotify();
    const notifier = new OutboxNotifier(notify, quietLogger, 0);
    notifier.poke();
    await flush();
    for (let i = 0; i < 50; i++) notifier.poke();
    expect(calls).toHaveLength(1);
    calls[0]?.resolve();
    await flush();
    // The commits behind those 50 pokes may have come after the first NOTIFY: one more follows.
    expect(calls).toHaveLength(2);
    calls[1]?.resolve();
    await notifier.idle();
    expect(calls).toHaveLength(2);
  });

  it('notifies again for a poke after it went idle', async () => {
    const { calls, notify } = controllableNotify();
    const notifier = new OutboxNotifier(notify, quietLogger, 0);
    notifier.poke();
    await flush();
    calls[0]?.resolve();
    await notifier.idle();
    notifier.poke();
    await flush();
    expect(calls).toHaveLength(2);
    calls[1]?.resolve();
    await notifier.idle();
  });

  it('logs a failed NOTIFY and keeps serving later pokes', async () => {
    const { calls, notify } = controllableNotify();
    const logger = { warn: jest.fn() };
    const notifier = new OutboxNotifier(notify, logger, 0);
    notifier.poke();
    await flush();
    calls[0]?.reject(new Error('connection terminated'));
    await notifier.idle();
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('polling'), { error: 'connection terminated' });
    notifier.poke();
    await flush();
    expect(calls).toHaveLength(2);
    calls[1]?.resolve();
    await notifier.idle();
  });

  it('waits in idle() for a NOTIFY that was asked for but not sent yet', async () => {
    const { calls, notify } = controllableNotify();
    const notifier = new OutboxNotifier(notify, quietLogger, 0);
    notifier.poke();
    let idle = false;
    const settled = notifier.idle().then(() => (idle = true));
    await flush();
    expect(calls).toHaveLength(1);
    expect(idle).toBe(false);
    calls[0]?.resolve();
    await settled;
  });

  it('keeps NOTIFYs at least the minimum interval apart, answering the pokes meanwhile with one', async () => {
    const sent: number[] = [];
    const notifier = new OutboxNotifier(
      async () => {
        sent.push(performance.now());
      },
      quietLogger,
      40,
      0, // no wait for a carrier: this test is about the interval alone
    );
    notifier.poke();
    await flush();
    expect(sent).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      notifier.poke();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(sent).toHaveLength(1); // still within the interval
    await notifier.idle();
    expect(sent).toHaveLength(2);
    // Well apart (the pokes came every 5 ms). Not to the millisecond: timers run on the event
    // loop's clock, which lags performance.now() by however long the loop has been busy.
    expect((sent[1] as number) - (sent[0] as number)).toBeGreaterThanOrEqual(25);
  });

  describe('NOTIFYs carried by the statements that store events', () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    /** A carried NOTIFY, a poke within the interval, then (past it) a carrier that takes the poke over. */
    async function carrierTakingOverAPoke(notifier: OutboxNotifier): Promise<void> {
      expect(notifier.carry()).toBe(true);
      notifier.carried(true);
      notifier.poke();
      await sleep(25); // past the interval of 10 ms, within the wait for a carrier
      expect(notifier.carry()).toBe(true);
    }

    it('gives a NOTIFY to a statement when one is due, and sends none alone for it', async () => {
      const { calls, notify } = controllableNotify();
      const notifier = new OutboxNotifier(notify, quietLogger, 20, 20);
      expect(notifier.carry()).toBe(true);
      notifier.carried(true);
      await flush();
      await notifier.idle();
      expect(calls).toHaveLength(0);
    });

    it('gives one to one statement at a time, and none within the interval after it', async () => {
      const { notify } = controllableNotify();
      const notifier = new OutboxNotifier(notify, quietLogger, 30, 30);
      expect(notifier.carry()).toBe(true);
      expect(notifier.carry()).toBe(false); // the first has not committed yet
      notifier.carried(true);
      expect(notifier.carry()).toBe(false); // within the interval
      await sleep(50);
      expect(notifier.carry()).toBe(true);
      notifier.carried(true);
    });

    it('answers a poke with the next carrier when one comes in time, else with a NOTIFY sent alone', async () => {
      const { calls, notify } = controllableNotify();
      const notifier = new OutboxNotifier(notify, quietLogger, 30, 200);
      expect(notifier.carry()).toBe(true);
      notifier.carried(true);
      notifier.poke(); // a commit within the interval, which carried nothing
      await sleep(50); // past the interval, within the wait for a carrier
      expect(notifier.carry()).toBe(true); // takes the poke over
      notifier.carried(true);
      await notifier.idle();
      expect(calls).toHaveLength(0);

      notifier.poke(); // and no statement comes
      const poked = performance.now();
      await flush();
      expect(calls).toHaveLength(0); // not at once: the last NOTIFY is recent
      await sleep(300);
      expect(calls).toHaveLength(1);
      expect(performance.now() - poked).toBeGreaterThanOrEqual(150);
      calls[0]?.resolve();
      await notifier.idle();
    });

    it('sends alone the NOTIFY a carrier took over when its statement fails', async () => {
      const { calls, notify } = controllableNotify();
      const notifier = new OutboxNotifier(notify, quietLogger, 10, 100);
      expect(notifier.carry()).toBe(true);
      notifier.carried(false); // it took nothing over: its own events were not stored
      await sleep(25);
      await notifier.idle();
      expect(calls).toHaveLength(0);
      await carrierTakingOverAPoke(notifier);
      notifier.carried(false); // rolled back: its NOTIFY was never delivered
      await sleep(200);
      expect(calls).toHaveLength(1);
      calls[0]?.resolve();
      await notifier.idle();
    });

    it('does not keep the relays waiting for a slow carrier', async () => {
      const { calls, notify } = controllableNotify();
      const notifier = new OutboxNotifier(notify, quietLogger, 10, 100);
      await carrierTakingOverAPoke(notifier); // and then it does not commit for long
      await sleep(200);
      expect(calls).toHaveLength(1);
      calls[0]?.resolve();
      await notifier.idle();
      notifier.carried(true);
    });
  });
});
