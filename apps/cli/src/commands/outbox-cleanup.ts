import type { OrchestronConfig } from '@orchestron/config';
import { deleteOldEvents, deletePublishedOutbox } from '@orchestron/db';
import { cliDatabase } from '../cli-database';
import type { Output } from '../output';

/**
 * `orchestron outbox cleanup`: one retention pass by hand, as the relays run it on their timer:
 * published outbox rows older than `retention.published_outbox`, then settled events older
 * than `retention.events`, each in batches of `retention.batch_size` with `retention.batch_pause`
 * between full batches. Safe while relays run (SKIP LOCKED).
 */
export async function cleanupOutbox(config: OrchestronConfig, out: Output): Promise<void> {
  const { retention } = config;
  const batchSize = Math.max(1, retention.batch_size);
  const db = cliDatabase(config, out);
  try {
    const drain = async (deleteBatch: (limit: number) => Promise<number>): Promise<number> => {
      let total = 0;
      for (;;) {
        const count = await deleteBatch(batchSize);
        total += count;
        if (count < batchSize) return total;
        await new Promise((resolve) => setTimeout(resolve, retention.batch_pause));
      }
    };
    const outbox =
      retention.published_outbox > 0
        ? await drain((limit) => deletePublishedOutbox(db, { olderThanMs: retention.published_outbox, limit }))
        : null;
    const events =
      retention.events > 0
        ? await drain((limit) => deleteOldEvents(db, { olderThanMs: retention.events, limit }))
        : null;
    out.result({ outbox, events }, () =>
      [
        outbox === null
          ? 'published outbox rows: kept (retention.published_outbox is 0)'
          : `published outbox rows deleted: ${outbox} (older than ${hours(retention.published_outbox)})`,
        events === null
          ? 'events: kept (retention.events is 0)'
          : `events deleted:                ${events} (settled, older than ${hours(retention.events)})`,
      ].join('\n'),
    );
  } finally {
    await db.destroy();
  }
}

function hours(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 1000}s`;
}
