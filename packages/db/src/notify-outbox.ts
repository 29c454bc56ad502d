import { runPrepared, type PreparedStatement } from './run-prepared';
import { OUTBOX_CHANNEL, type Executor } from './types';

const NOTIFY_OUTBOX: PreparedStatement = {
  name: 'orchestron_notify_outbox',
  text: `select pg_notify('${OUTBOX_CHANNEL}', '')`,
};

/**
 * Tells listening relays that work is waiting. Inside a transaction Postgres delivers it at
 * commit, and only if the transaction commits; a hint, never the only path (relays poll too).
 * Prepared, because ingest sends it after nearly every request when traffic is light.
 */
export async function notifyOutbox(db: Executor): Promise<void> {
  await runPrepared(db, NOTIFY_OUTBOX, []);
}
