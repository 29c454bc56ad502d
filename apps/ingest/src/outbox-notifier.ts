import type { Logger } from '@orchestron/observability';

/**
 * Wakes the relays after commits that wrote outbox rows, with as few NOTIFYs as still wake them
 * promptly. Postgres serialises the commits of transactions that NOTIFY (a database-wide lock
 * held through the WAL flush), so a NOTIFY in every request's statement capped the whole write
 * path (docs/benchmarks.md); a NOTIFY is only a hint anyway: relays also poll every
 * `outbox.process_interval`, so one that fails costs at most that delay, never an event.
 *
 * NOTIFYs are at least `minIntervalMs` apart (2 ms by default): closer together they wake no
 * relay sooner (a claim loop that is busy remembers one wakeup). A NOTIFY goes one of two ways:
 * - Carried: a request about to store events asks `carry()`; when a NOTIFY is due it gets one,
 *   and its own statement NOTIFYs, delivered at its commit. No transaction or round trip of
 *   its own: at one request at a time a separate NOTIFY cost 8% of the rate. At 500 requests
 *   per second or fewer every request carries its own.
 * - Sent alone: a commit that did not carry one pokes, and a NOTIFY follows it, sent alone once
 *   the interval is over plus `carrierWaitMs`, unless a request took it over meanwhile. So while
 *   requests keep coming, one of them carries it; when they stop, it is sent alone.
 */
export class OutboxNotifier {
  /** Commits that need a NOTIFY after them, and none has been sent or carried since. */
  private wanted = false;
  /** A carrier took over `wanted` and has not committed yet (sent alone if it is slow). */
  private handedToCarrier = false;
  private carrierInFlight = false;
  /** When the last NOTIFY was sent or handed to a carrier (performance.now()). */
  private lastAt = Number.NEGATIVE_INFINITY;
  private sending: Promise<void> | null = null;
  private sendingAlone = false;

  constructor(
    private readonly notify: () => Promise<void>,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly minIntervalMs = 2,
    private readonly carrierWaitMs = minIntervalMs,
  ) {}

  /**
   * Before a statement that writes outbox rows: whether it should NOTIFY itself. A true answer
   * must be followed by `carried()` once the statement has settled.
   */
  carry(): boolean {
    const now = performance.now();
    if (this.carrierInFlight || this.sendingAlone || now - this.lastAt < this.minIntervalMs) return false;
    this.carrierInFlight = true;
    this.lastAt = now;
    // Its commit comes after every commit that has poked so far: its NOTIFY covers them.
    this.handedToCarrier ||= this.wanted;
    this.wanted = false;
    return true;
  }

  /** The statement that carry() answered true for has settled: committed with its NOTIFY, or not. */
  carried(delivered: boolean): void {
    this.carrierInFlight = false;
    // Already sent alone if the carrier was slow; else, what it took over it gives back.
    if (!this.handedToCarrier) return;
    this.handedToCarrier = false;
    if (!delivered) {
      this.wanted = true;
      this.schedule();
    }
  }

  /** After a commit that wrote outbox rows without carrying a NOTIFY: make sure one follows it. */
  poke(): void {
    this.wanted = true;
    this.schedule();
  }

  /** Resolves once no NOTIFY is in flight or wanted (before closing the database on shutdown). */
  async idle(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private schedule(): void {
    // Started from the next turn of the event loop, so that the request that poked writes its
    // answer first: a NOTIFY sent alone is never on the sender's path.
    this.sending ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.sendAlone());
  }

  private async sendAlone(): Promise<void> {
    try {
      while (this.wanted || this.handedToCarrier) {
        // The first NOTIFY after a quiet spell goes at once; after a recent one, a request
        // arriving meanwhile may carry it instead.
        const wait = this.lastAt + this.minIntervalMs + this.carrierWaitMs - performance.now();
        if (wait > 0) {
          await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
          continue;
        }
        // Wanted commits are covered by this NOTIFY, and so are those handed to a carrier that
        // has not committed by now: the relays need not wait for a slow statement.
        this.wanted = false;
        this.handedToCarrier = false;
        this.lastAt = performance.now();
        this.sendingAlone = true;
        try {
          await this.notify();
        } catch (error) {
          this.logger.warn('could not notify the relays; they will find the events by polling', {
            error: (error as Error).message,
          });
        } finally {
          this.sendingAlone = false;
        }
      }
    } finally {
      this.sending = null;
    }
  }
}
