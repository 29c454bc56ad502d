/** UUIDv7 (Orchestron's event ids): time-ordered, so their text sorts in the order they were made. */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Whether the ordering guard can place this event id in its key's sequence. */
export function isOrderable(eventId: string): boolean {
  return UUID_V7.test(eventId);
}

/** An event arrived out of order when its key had already seen a newer one. */
export function arrivedOutOfOrder(previous: string | null, eventId: string): boolean {
  return previous !== null && previous > eventId;
}

/**
 * Runs tasks at most `concurrency` at a time, and tasks of the same key one after the other in
 * the order they were pushed (tasks without a key only obey the limit). RabbitMQ deliveries go
 * through it: per-key sequential handling with parallelism across keys.
 */
export class KeyedScheduler {
  private running = 0;
  private readonly waiting: { key: string | null; run: () => Promise<void> }[] = [];
  private readonly busyKeys = new Set<string>();

  constructor(private readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError('concurrency must be a positive integer');
  }

  /** Queues the task; the promise settles when it has run. */
  push(key: string | null, task: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ key, run: () => task().then(resolve, reject) });
      this.drain();
    });
  }

  /** Tasks queued or running. */
  get size(): number {
    return this.running + this.waiting.length;
  }

  private drain(): void {
    for (let i = 0; i < this.waiting.length && this.running < this.concurrency;) {
      const next = this.waiting[i] as { key: string | null; run: () => Promise<void> };
      if (next.key !== null && this.busyKeys.has(next.key)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.running++;
      if (next.key !== null) this.busyKeys.add(next.key);
      void next.run().finally(() => {
        this.running--;
        if (next.key !== null) this.busyKeys.delete(next.key);
        this.drain();
      });
    }
  }
}
