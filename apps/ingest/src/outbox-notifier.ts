import type { Logger } from '@orchestron/observability';

/**
 * Wakes the relays after commits that wrote outbox rows, with at most one NOTIFY in flight per
 * ingest process: a commit while one is in flight asks for one more after it, however many
 * commits ask. Notifying inside each request's transaction would be simpler, but Postgres
 * serialises the commits of transactions that NOTIFY (a database-wide lock held through the
 * WAL flush), which capped the whole write path (docs/benchmarks.md). A notification is only
 * a hint: relays also poll every `outbox.process_interval`, so a NOTIFY that fails costs at
 * most that delay, never an event.
 *
 * NOTIFYs are also at least `minIntervalMs` apart (2 ms by default): closer together they wake
 * no relay sooner (a claim loop that is busy remembers one wakeup), and each costs a
 * transaction on a core the requests need (+10% at one request at a time, docs/benchmarks.md).
 * At 500 requests per second or fewer it delays no wakeup.
 */
export class OutboxNotifier {
  private wanted = false;
  private sending: Promise<void> | null = null;

  constructor(
    private readonly notify: () => Promise<void>,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly minIntervalMs = 2,
  ) {}

  /** After a commit that wrote outbox rows: make sure a NOTIFY follows it. */
  poke(): void {
    this.wanted = true;
    // Sent from the next turn of the event loop, so that the request that poked writes its
    // answer first: the NOTIFY is not on the sender's path.
    this.sending ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.send());
  }

  /** Resolves once no NOTIFY is in flight or wanted (before closing the database on shutdown). */
  async idle(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private async send(): Promise<void> {
    try {
      // A NOTIFY sent after a commit wakes the relays for it; one asked for while this one was
      // in flight may have committed after the NOTIFY was sent, so it gets another.
      while (this.wanted) {
        this.wanted = false;
        const sentAt = performance.now();
        try {
          await this.notify();
        } catch (error) {
          this.logger.warn('could not notify the relays; they will find the events by polling', {
            error: (error as Error).message,
          });
        }
        // Pokes until the interval is over are answered by one NOTIFY after it.
        const rest = this.minIntervalMs - (performance.now() - sentAt);
        if (rest > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(rest)));
      }
    } finally {
      this.sending = null;
    }
  }
}
