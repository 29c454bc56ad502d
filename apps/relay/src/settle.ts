import type { PublishResult } from '@orchestron/broker';
import type { ClaimedRow, FailedRow } from '@orchestron/db';

export interface Settlement {
  published: ClaimedRow[];
  retry: FailedRow[];
  deadLetter: FailedRow[];
}

/**
 * Sorts a published batch by outcome. A rejected row is retried while it has retries left:
 * the first try plus `maxRetries` retries, so it is dead-lettered when the attempt that just
 * failed was attempt number maxRetries + 1.
 */
export function settle(rows: readonly ClaimedRow[], results: readonly PublishResult[], maxRetries: number): Settlement {
  if (results.length !== rows.length) {
    throw new Error(`publisher returned ${results.length} results for ${rows.length} messages`);
  }
  const settlement: Settlement = { published: [], retry: [], deadLetter: [] };
  rows.forEach((row, i) => {
    const result = results[i] as PublishResult;
    if (result.ok) {
      settlement.published.push(row);
      return;
    }
    const failure = { id: row.id, error: describe(result.error) };
    if (row.attempts + 1 > maxRetries) settlement.deadLetter.push(failure);
    else settlement.retry.push(failure);
  });
  return settlement;
}

function describe(error: Error): string {
  const text = `${error.name}: ${error.message}`;
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}
