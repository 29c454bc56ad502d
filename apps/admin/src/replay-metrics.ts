import { Counter, type Registry } from 'prom-client';
import type { ReplayBatchResult } from '@orchestron/db';
import { METRIC_PREFIX } from '@orchestron/observability';

/**
 * The replay runner's counters, fed after each batch (ReplayRunnerOptions.onBatch). Progress
 * of one replay is on the replay itself (GET /v1/replays/{id}); these say how much replay work
 * this process does, e.g. to see a replay compete with live traffic on the relays' dashboards.
 */
export function replayMetrics(registry: Registry): (replay: unknown, result: ReplayBatchResult) => void {
  const walked = new Counter({
    name: `${METRIC_PREFIX}replay_events_total`,
    help: 'Stored events replays walked.',
    registers: [registry],
  });
  const enqueued = new Counter({
    name: `${METRIC_PREFIX}replay_enqueued_total`,
    help: 'Outbox rows replays wrote (one per route of each event).',
    registers: [registry],
  });
  const skipped = new Counter({
    name: `${METRIC_PREFIX}replay_skipped_total`,
    help: 'Events replays walked that had no original route left (their outbox rows deleted by retention).',
    registers: [registry],
  });
  return (_replay, result) => {
    walked.inc(result.matched);
    enqueued.inc(result.enqueued);
    skipped.inc(result.skipped);
  };
}
