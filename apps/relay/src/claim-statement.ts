import {
  claimDueBatch,
  claimOrderedBatch,
  type ClaimedRow,
  type DeadLetterPolicy,
  type Executor,
} from '@orchestron/db';

/** Claims and locks up to `limit` due outbox rows of `brokers` for the caller's transaction. */
export type ClaimBatch = (
  trx: Executor,
  options: { limit: number; brokers: readonly string[] },
) => Promise<ClaimedRow[]>;

export interface OrderingSettings {
  ordering: 'none' | 'partition_key';
  dead_letter_policy: DeadLetterPolicy;
}

/**
 * The claim statement for `outbox.ordering`: any due rows (`none`, the fastest), or only the
 * head of each partition key (`partition_key`, see claimOrderedBatch).
 */
export function claimStatementFor(settings: OrderingSettings): ClaimBatch {
  if (settings.ordering === 'none') return claimDueBatch;
  const deadLetterPolicy = settings.dead_letter_policy;
  return (trx, options) => claimOrderedBatch(trx, { ...options, deadLetterPolicy });
}
