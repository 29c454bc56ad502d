import type { OrchestronConfig } from '@orchestron/config';
import { createDatabase, outboxStats } from '@orchestron/db';
import type { Output } from '../output';

/** `orchestron outbox stats`: backlog depth, oldest pending and due ages, dead-letter count. */
export async function showOutboxStats(config: OrchestronConfig, out: Output): Promise<void> {
  const db = createDatabase({ ...config.database, max_connections: 1 }, 'orchestron-cli');
  try {
    const stats = await outboxStats(db);
    out.result(stats, () =>
      [
        `pending:             ${stats.pending}`,
        `oldest pending age:  ${stats.oldestPendingAgeSeconds.toFixed(1)} s`,
        `oldest due age:      ${stats.oldestDueAgeSeconds.toFixed(1)} s (not counting rows waiting out a retry backoff)`,
        `dead-lettered:       ${stats.dead}`,
      ].join('\n'),
    );
  } finally {
    await db.destroy();
  }
}
