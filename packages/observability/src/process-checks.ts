import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import { CheckFailure, type HealthCheck } from './health';

const NS_PER_MS = 1e6;

/**
 * The event loop's delay, as its 99th percentile over a sliding window: the last full window
 * and the one in progress. A process whose loop is this late answers every request this late.
 */
export class EventLoopLagMonitor {
  // Named by what makes it: @types/node renamed the type (IntervalHistogram, ELDHistogram in 24).
  private readonly histogram: ReturnType<typeof monitorEventLoopDelay>;
  private readonly resolutionMs: number;
  private readonly windowMs: number;
  private lastWindowP99Ns = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: { windowMs?: number; resolutionMs?: number } = {}) {
    this.resolutionMs = options.resolutionMs ?? 10;
    this.windowMs = options.windowMs ?? 10_000;
    this.histogram = monitorEventLoopDelay({ resolution: this.resolutionMs });
  }

  start(): this {
    if (this.timer) return this;
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.lastWindowP99Ns = this.histogram.count > 0 ? this.histogram.percentile(99) : 0;
      this.histogram.reset();
    }, this.windowMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.histogram.disable();
  }

  /** p99 delay in ms beyond the sampling interval itself (which the histogram includes). */
  p99LagMs(): number {
    const current = this.histogram.count > 0 ? this.histogram.percentile(99) : 0;
    const p99Ns = Math.max(this.lastWindowP99Ns, current);
    return Math.max(0, p99Ns / NS_PER_MS - this.resolutionMs);
  }
}

/** Not ready while the p99 event-loop delay exceeds `maxLagMs` (read per check: reloadable). */
export function eventLoopLagCheck(monitor: EventLoopLagMonitor, maxLagMs: () => number): HealthCheck {
  return {
    name: 'event_loop',
    check: async () => {
      const details = { p99LagMs: Math.round(monitor.p99LagMs()), maxLagMs: maxLagMs() };
      if (details.p99LagMs > details.maxLagMs) {
        throw new CheckFailure(`event loop p99 delay ${details.p99LagMs}ms exceeds ${details.maxLagMs}ms`, details);
      }
      return details;
    },
  };
}

/** A share of V8's heap limit, or a number of bytes. */
export type HeapThreshold = { fraction: number } | { bytes: number };

interface HeapStatistics {
  used_heap_size: number;
  heap_size_limit: number;
}

/**
 * Not ready while the V8 heap in use exceeds the threshold: near its limit a process spends
 * its time collecting garbage and is about to be killed; better no new traffic meanwhile.
 */
export function heapUsedCheck(
  threshold: () => HeapThreshold,
  heapStatistics: () => HeapStatistics = () => v8.getHeapStatistics(),
): HealthCheck {
  return {
    name: 'memory',
    check: async () => {
      const stats = heapStatistics();
      const limit = threshold();
      const maxBytes = 'bytes' in limit ? limit.bytes : Math.floor(stats.heap_size_limit * limit.fraction);
      const details = { heapUsedBytes: stats.used_heap_size, maxHeapUsedBytes: maxBytes };
      if (stats.used_heap_size > maxBytes) {
        throw new CheckFailure(
          `heap in use ${mebibytes(stats.used_heap_size)} exceeds ${mebibytes(maxBytes)} (heap limit ${mebibytes(stats.heap_size_limit)})`,
          details,
        );
      }
      return details;
    },
  };
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)}MiB`;
}
