import type { Knex } from 'knex';
import {
  claimReplay,
  enqueueReplayBatch,
  finishReplay,
  holdReplay,
  notifyOutbox,
  releaseReplay,
  replayCondition,
  type ReplayBatchResult,
  type ReplayRecord,
} from '@orchestron/db';

/** What the runner does to the database, and nothing else: the runner itself knows no SQL. */
export interface ReplayStore {
  claim(runnerId: string, leaseMs: number): Promise<ReplayRecord | null>;
  /** Renews the lease and counts the replay's rows still waiting for the relays. */
  hold(id: string, runnerId: string, leaseMs: number): Promise<{ held: boolean; pending: number }>;
  /** One batch of `replay` after `cursor`, in its own short transaction. */
  runBatch(
    replay: ReplayRecord,
    runnerId: string,
    cursor: string | null,
    limit: number,
    leaseMs: number,
  ): Promise<ReplayBatchResult>;
  finish(
    id: string,
    runnerId: string,
    outcome: { status: 'completed' } | { status: 'failed'; error: string },
  ): Promise<boolean>;
  release(id: string, runnerId: string): Promise<void>;
}

/** The store over Postgres: each call one statement, a batch one transaction with its NOTIFY. */
export function createReplayStore(db: Knex): ReplayStore {
  return {
    claim: (runnerId, leaseMs) => claimReplay(db, runnerId, leaseMs),
    hold: (id, runnerId, leaseMs) => holdReplay(db, id, runnerId, leaseMs),
    runBatch: (replay, runnerId, cursor, limit, leaseMs) =>
      db.transaction(async (trx) => {
        const result = await enqueueReplayBatch(trx, {
          id: replay.id,
          runnerId,
          cursor,
          condition: replayCondition(replay.filter, replay.scope),
          limit,
          leaseMs,
        });
        // Delivered at commit: the relays claim the new rows at once instead of at their next poll.
        if (result.enqueued > 0) await notifyOutbox(trx);
        return result;
      }),
    finish: (id, runnerId, outcome) => finishReplay(db, id, runnerId, outcome),
    release: (id, runnerId) => releaseReplay(db, id, runnerId),
  };
}
