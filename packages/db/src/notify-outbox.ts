import { OUTBOX_CHANNEL, type Executor } from './types';

/**
 * Tells listening relays that work is waiting. Inside a transaction Postgres delivers it at
 * commit, and only if the transaction commits; a hint, never the only path (relays poll too).
 */
export async function notifyOutbox(db: Executor): Promise<void> {
  await db.raw(`select pg_notify(?, '')`, [OUTBOX_CHANNEL]);
}
