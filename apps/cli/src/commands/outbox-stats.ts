import type { OrchestronConfig } from '@orchestron/config';
import { outboxStats, type DestinationBacklog } from '@orchestron/db';
import { cliDatabase } from '../cli-database';
import type { Output } from '../output';
import { formatTable } from '../table';

/**
 * `orchestron outbox stats`: backlog depth, oldest pending and due ages and the dead-letter
 * count, in total and per broker and destination. Every broker with pending rows is listed,
 * whether or not a relay serves it: that is how rows routed to a broker without a relay show.
 */
export async function showOutboxStats(config: OrchestronConfig, out: Output): Promise<void> {
  const db = cliDatabase(config, out);
  try {
    const stats = await outboxStats(db);
    out.result(stats, () =>
      [
        `pending:             ${stats.pending}`,
        `oldest pending age:  ${stats.oldestPendingAgeSeconds.toFixed(1)} s`,
        `oldest due age:      ${stats.oldestDueAgeSeconds.toFixed(1)} s (not counting rows waiting out a retry backoff)`,
        `dead-lettered:       ${stats.dead}`,
        ...(stats.destinations.length > 0 ? ['', destinationTable(stats.destinations)] : []),
      ].join('\n'),
    );
  } finally {
    await db.destroy();
  }
}

function destinationTable(rows: readonly DestinationBacklog[]): string {
  return formatTable(
    ['broker', 'destination', 'pending', 'oldest pending (s)', 'oldest due (s)'],
    rows.map((row) => [
      row.broker,
      row.destination,
      String(row.pending),
      row.oldestPendingAgeSeconds.toFixed(1),
      row.oldestDueAgeSeconds.toFixed(1),
    ]),
  );
}
