import { arrivedOutOfOrder, isOrderable, KeyedScheduler } from '../src/ordering';
import { retryDelayMs } from '../src/backoff';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyedScheduler', () => {
  it('runs tasks of one key one after the other, in the order they were pushed', async () => {
    const scheduler = new KeyedScheduler(4);
    const log: string[] = [];
    const releases: (() => void)[] = [];
    const task = (name: string) => () =>
      new Promise<void>((resolve) => {
        log.push(`start ${name}`);
        releases.push(() => {
          log.push(`end ${name}`);
          resolve();
        });
      });
    const done = [scheduler.push('a', task('a1')), scheduler.push('a', task('a2')), scheduler.push('b', task('b1'))];
    await tick();
    expect(log).toEqual(['start a1', 'start b1']);
    releases.shift()?.();
    await tick();
    await tick();
    expect(log).toEqual(['start a1', 'start b1', 'end a1', 'start a2']);
    releases.splice(0).forEach((release) => release());
    await Promise.all(done);
  });

  it('never runs more than its concurrency at once, keyed or not', async () => {
    const scheduler = new KeyedScheduler(2);
    let running = 0;
    let peak = 0;
    const task = async (): Promise<void> => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
    };
    await Promise.all([null, null, 'x', 'y', 'z', null].map((key) => scheduler.push(key, task)));
    expect(peak).toBe(2);
    expect(scheduler.size).toBe(0);
  });

  it('passes a failing task on to its caller and goes on with the next', async () => {
    const scheduler = new KeyedScheduler(1);
    const failed = scheduler.push('a', () => Promise.reject(new Error('boom')));
    const next = scheduler.push('a', () => Promise.resolve());
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBeUndefined();
  });
});

describe('the ordering check', () => {
  const older = '01900000-0000-7000-8000-000000000000';
  const newer = '01900000-0001-7000-8000-000000000000';

  it('reports an event whose key already saw a newer one', () => {
    expect(arrivedOutOfOrder(newer, older)).toBe(true);
    expect(arrivedOutOfOrder(older, newer)).toBe(false);
    expect(arrivedOutOfOrder(null, older)).toBe(false);
  });

  it('places only UUIDv7 event ids', () => {
    expect(isOrderable(newer)).toBe(true);
    expect(isOrderable('6f1c2b1e-8a39-4c1e-9a4b-0c2d3e4f5a6b')).toBe(false);
    expect(isOrderable('sender-42')).toBe(false);
  });
});

describe('retryDelayMs', () => {
  it('doubles from the initial delay up to the cap, with jitter in [0.5, 1)', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((failures) => retryDelayMs(policy, failures, () => 0.999999))).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
    expect(retryDelayMs(policy, 1, () => 0)).toBe(50);
  });
});
