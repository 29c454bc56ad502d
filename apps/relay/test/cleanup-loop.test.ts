import { CleanupLoop, type CleanupStep } from '../src/cleanup-loop';

const logger = { info: jest.fn(), warn: jest.fn() };

beforeEach(() => {
  logger.info.mockReset();
  logger.warn.mockReset();
});

/** A step that deletes from a pile of `rows`, recording the time of each batch. */
function pile(table: string, rows: number): CleanupStep & { left: () => number; batchTimes: number[] } {
  let left = rows;
  const batchTimes: number[] = [];
  return {
    table,
    left: () => left,
    batchTimes,
    deleteBatch: async (limit) => {
      batchTimes.push(Date.now());
      const deleted = Math.min(limit, left);
      left -= deleted;
      return deleted;
    },
  };
}

describe('CleanupLoop.runPass', () => {
  it('repeats a step while its batches come back full, then goes on with the next step', async () => {
    const outbox = pile('outbox', 25);
    const events = pile('events', 4);
    const deletedCounts: Array<[string, number]> = [];
    const loop = new CleanupLoop({
      steps: [outbox, events],
      batchSize: 10,
      intervalMs: 60_000,
      pauseMs: 0,
      logger,
      onDeleted: (table, count) => deletedCounts.push([table, count]),
    });
    expect(await loop.runPass()).toEqual({ outbox: 25, events: 4 });
    expect(outbox.left()).toBe(0);
    expect(deletedCounts).toEqual([
      ['outbox', 10],
      ['outbox', 10],
      ['outbox', 5],
      ['events', 4],
    ]);
  });

  it('runs one more batch after an exactly full one and stops at the empty answer', async () => {
    const outbox = pile('outbox', 20);
    const loop = new CleanupLoop({ steps: [outbox], batchSize: 10, intervalMs: 60_000, pauseMs: 0, logger });
    await loop.runPass();
    expect(outbox.batchTimes).toHaveLength(3);
  });

  it('pauses between full batches so that it never hogs the database', async () => {
    const outbox = pile('outbox', 30);
    const loop = new CleanupLoop({ steps: [outbox], batchSize: 10, intervalMs: 60_000, pauseMs: 50, logger });
    await loop.runPass();
    const gaps = outbox.batchTimes.slice(1).map((t, i) => t - (outbox.batchTimes[i] as number));
    expect(gaps).toHaveLength(3);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(45);
  });

  it('logs a failing step and still runs the others', async () => {
    const events = pile('events', 3);
    const loop = new CleanupLoop({
      steps: [
        {
          table: 'outbox',
          deleteBatch: () => Promise.reject(new Error('canceling statement due to statement timeout')),
        },
        events,
      ],
      batchSize: 10,
      intervalMs: 60_000,
      pauseMs: 0,
      logger,
    });
    expect(await loop.runPass()).toEqual({ outbox: 0, events: 3 });
    expect(logger.warn).toHaveBeenCalledWith(
      'retention cleanup failed; trying again next pass',
      expect.objectContaining({ table: 'outbox', error: 'canceling statement due to statement timeout' }),
    );
  });

  it('refuses a batch size below one', () => {
    expect(() => new CleanupLoop({ steps: [], batchSize: 0, intervalMs: 1_000, pauseMs: 0, logger })).toThrow(
      /batch_size/,
    );
  });
});

describe('CleanupLoop.start', () => {
  it('runs a pass every interval and logs what it deleted', async () => {
    const outbox = pile('outbox', 3);
    const loop = new CleanupLoop({ steps: [outbox], batchSize: 10, intervalMs: 20, pauseMs: 0, logger });
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await loop.stop();
    expect(outbox.batchTimes.length).toBeGreaterThanOrEqual(3);
    expect(logger.info).toHaveBeenCalledTimes(1);
    expect(logger.info).toHaveBeenCalledWith(
      'retention cleanup deleted old rows',
      expect.objectContaining({ deleted: { outbox: 3 } }),
    );
  });

  it('stops between two batches of a long pass, and stop() is idempotent', async () => {
    let batches = 0;
    let stop: Promise<void> | undefined;
    const loop = new CleanupLoop({
      steps: [
        {
          table: 'outbox',
          deleteBatch: async (limit) => {
            batches++;
            if (batches === 2) stop = loop.stop();
            return limit;
          },
        },
      ],
      batchSize: 10,
      intervalMs: 1,
      pauseMs: 10_000,
      logger,
    });
    const started = Date.now();
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await stop;
    await loop.stop();
    expect(batches).toBe(2);
    // Neither the pause after a full batch nor the interval held the stop up.
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
