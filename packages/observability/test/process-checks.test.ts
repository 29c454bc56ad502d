import { EventLoopLagMonitor, eventLoopLagCheck, heapUsedCheck, runChecks } from '../src';

/** Keeps the event loop busy for `ms`, as a CPU-bound request handler would. */
function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('event loop lag check', () => {
  let monitor: EventLoopLagMonitor;
  afterEach(() => monitor.stop());

  it('is ready while the loop is idle', async () => {
    monitor = new EventLoopLagMonitor({ windowMs: 200 }).start();
    await tick(100);
    const report = await runChecks([eventLoopLagCheck(monitor, () => 200)]);
    expect(report.ready).toBe(true);
    expect(report.checks.event_loop).toMatchObject({ ok: true, maxLagMs: 200 });
    expect(report.checks.event_loop?.p99LagMs).toBeLessThan(200);
  });

  it('is not ready while the loop is repeatedly blocked beyond the threshold, and reports the lag', async () => {
    monitor = new EventLoopLagMonitor({ windowMs: 5_000 }).start();
    for (let i = 0; i < 5; i++) {
      blockFor(120);
      await tick(1);
    }
    const report = await runChecks([eventLoopLagCheck(monitor, () => 50)]);
    expect(report.ready).toBe(false);
    expect(report.checks.event_loop?.error).toMatch(/event loop p99 delay \d+ms exceeds 50ms/);
    expect(report.checks.event_loop?.p99LagMs).toBeGreaterThan(50);
  });

  it('reads the threshold per check, so a reload can raise it', async () => {
    monitor = new EventLoopLagMonitor({ windowMs: 5_000 }).start();
    for (let i = 0; i < 5; i++) {
      blockFor(120);
      await tick(1);
    }
    let maxLagMs = 50;
    const check = eventLoopLagCheck(monitor, () => maxLagMs);
    expect((await runChecks([check])).ready).toBe(false);
    maxLagMs = 10_000;
    expect((await runChecks([check])).ready).toBe(true);
  });

  it('forgets a busy spell once a full quiet window has passed', async () => {
    monitor = new EventLoopLagMonitor({ windowMs: 150 }).start();
    for (let i = 0; i < 3; i++) {
      blockFor(120);
      await tick(1);
    }
    expect(monitor.p99LagMs()).toBeGreaterThan(50);
    await tick(400);
    expect(monitor.p99LagMs()).toBeLessThan(50);
  });
});

describe('heap check', () => {
  const stats = (used: number, limit: number) => () => ({ used_heap_size: used, heap_size_limit: limit });

  it('is ready below a share of the heap limit and not above it', async () => {
    const below = await runChecks([heapUsedCheck(() => ({ fraction: 0.9 }), stats(800, 1000))]);
    expect(below.checks.memory).toEqual({ ok: true, heapUsedBytes: 800, maxHeapUsedBytes: 900 });
    const above = await runChecks([heapUsedCheck(() => ({ fraction: 0.9 }), stats(950, 1000))]);
    expect(above.ready).toBe(false);
    expect(above.checks.memory).toMatchObject({ ok: false, heapUsedBytes: 950, maxHeapUsedBytes: 900 });
    expect(above.checks.memory?.error).toMatch(/heap in use .* exceeds/);
  });

  it('takes an absolute size too, and measures the real heap by default', async () => {
    const report = await runChecks([heapUsedCheck(() => ({ bytes: 1 }))]);
    expect(report.ready).toBe(false);
    expect(report.checks.memory?.heapUsedBytes).toBeGreaterThan(1_000_000);
    expect((await runChecks([heapUsedCheck(() => ({ fraction: 1 }))])).ready).toBe(true);
  });
});

describe('runChecks', () => {
  it('shows every check with what it measured, and is ready only when all pass', async () => {
    const report = await runChecks(
      [
        { name: 'database', check: async () => undefined },
        { name: 'broker', check: async () => ({ connected: true }) },
        {
          name: 'slow',
          check: () => new Promise<void>(() => undefined),
        },
      ],
      50,
    );
    expect(report).toEqual({
      ready: false,
      checks: {
        database: { ok: true },
        broker: { ok: true, connected: true },
        slow: { ok: false, error: 'timed out after 50ms' },
      },
    });
  });
});
