import pg from 'pg';
import { OUTBOX_CHANNEL } from '@orchestron/db';
import type { LoopLogger } from './claim-loop';

/**
 * LISTENs for ingest's NOTIFY on a dedicated connection (a pooled one would lose its
 * LISTEN) and calls `onWake`. If the connection drops it reconnects with backoff and wakes
 * the loops once, since notifications sent meanwhile were lost. The loops poll as well, so
 * a dead listener delays delivery by at most the poll interval; it never loses events.
 */
export class OutboxListener {
  private client: pg.Client | null = null;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private failures = 0;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly onWake: () => void,
    private readonly logger: LoopLogger & { info(message: string, meta?: Record<string, unknown>): void },
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.connection);
    client.on('notification', () => this.onWake());
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`listen ${OUTBOX_CHANNEL}`);
      this.client = client;
      if (this.failures > 0) this.logger.info('outbox listener reconnected');
      this.failures = 0;
      this.onWake();
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.lost(client, error as Error);
    }
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.closed || this.reconnectTimer) return;
    if (this.client !== null && this.client !== client) return;
    this.client = null;
    this.failures++;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures - 1, 10));
    this.logger.warn('outbox listener lost its connection; relying on polling until it is back', {
      error: error.message,
      retryInMs: delay,
    });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}
