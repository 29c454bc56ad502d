import { ClaimLoop, type ClaimLoopOptions } from '../src/claim-loop';

function loopWith(processBatch: () => Promise<number>, overrides: Partial<ClaimLoopOptions> = {}) {
  const errors: Array<{ error: unknown; retryInMs: number }> = [];
  const loop = new ClaimLoop({
    processBatch,
    batchSize: 10,
    pollIntervalMs: 60_000,
    backoff: { initialMs: 100, maxMs: 1_000 },
    onError: (error, retryInMs) => errors.push({ error, retryInMs }),
    random: () => 0.999,
    ...overrides,
  });
  return { loop, errors };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ClaimLoop', () => {
  it('goes again at once after a full batch and sleeps after a partial one', async () => {
    const sizes = [10, 10, 3];
    let calls = 0;
    const { loop } = loopWith(async () => sizes[calls++] ?? 0);
    loop.start();
    for (let i = 0; i < 20; i++) await tick();
    expect(calls).toBe(3);
    await loop.stop();
  });

  it('wakes from an idle sleep when notified', async () => {
    let calls = 0;
    const { loop } = loopWith(async () => {
      calls++;
      return 0;
    });
    loop.start();
    await tick();
    expect(calls).toBe(1);
    loop.wake();
    await tick();
    await tick();
    expect(calls).toBe(2);
    await loop.stop();
  });

  it('does not skip the sleep for a wakeup that arrived during the batch only once', async () => {
    let calls = 0;
    let loopRef: ClaimLoop | null = null;
    const { loop } = loopWith(async () => {
      calls++;
      if (calls === 1) loopRef?.wake();
      return 0;
    });
    loopRef = loop;
    loop.start();
    for (let i = 0; i < 10; i++) await tick();
    // The wakeup during batch 1 means batch 2 runs at once; batch 2 had none, so it sleeps.
    expect(calls).toBe(2);
    await loop.stop();
  });

  it('backs off exponentially after failures, ignores wakeups meanwhile, and never throws', async () => {
    jest.useFakeTimers();
    try {
      let calls = 0;
      const { loop, errors } = loopWith(async () => {
        calls++;
        throw new Error('broker down');
      });
      loop.start();
      await jest.advanceTimersByTimeAsync(0);
      expect(calls).toBe(1);
      loop.wake();
      await jest.advanceTimersByTimeAsync(50);
      expect(calls).toBe(1);
      await jest.advanceTimersByTimeAsync(1_000 + 2_000 + 4_000);
      const delays = errors.map((e) => e.retryInMs);
      expect(delays.slice(0, 5)).toEqual([100, 200, 400, 800, 1_000]);
      expect(new Set(delays.slice(5))).toEqual(new Set([1_000]));
      const stopped = loop.stop();
      await jest.advanceTimersByTimeAsync(0);
      await stopped;
    } finally {
      jest.useRealTimers();
    }
  });

  it('stop waits for the batch in flight and is idempotent', async () => {
    let release: () => void = () => undefined;
    let finished = false;
    const { loop } = loopWith(
      () =>
        new Promise<number>((resolve) => {
          release = () => {
            finished = true;
            resolve(1);
          };
        }),
    );
    loop.start();
    await tick();
    const first = loop.stop();
    const second = loop.stop();
    await tick();
    expect(finished).toBe(false);
    release();
    await Promise.all([first, second]);
    expect(finished).toBe(true);
  });
});
