import { Client } from 'pg';
import { OUTBOX_CHANNEL } from '@orchestron/db';

/** A LISTENing connection that collects the relays' wakeups (NOTIFY orchestron_outbox). */
export interface OutboxNotices {
  /** The notifications received so far and within `ms` more, emptying the list. */
  takeWithin(ms: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function listenForOutboxNotices(databaseUrl: string): Promise<OutboxNotices> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const received: string[] = [];
  client.on('notification', (n) => received.push(n.channel));
  await client.query(`listen ${OUTBOX_CHANNEL}`);
  return {
    async takeWithin(ms) {
      // Notifications arrive asynchronously after the commit that sent them.
      await new Promise((resolve) => setTimeout(resolve, ms));
      return received.splice(0);
    },
    close: () => client.end(),
  };
}
