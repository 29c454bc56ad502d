import type { Executor } from './types';

/** One state-changing admin action, or a refused attempt at one. */
export interface AuditEntry {
  /** The API key's name. */
  actor: string;
  /** e.g. `dead_letters.replay`, `keys.rotate`. */
  action: string;
  outcome: 'ok' | 'refused';
  /** What it was aimed at: ids, a filter, a key name. */
  target: Record<string, unknown>;
  /** What it did (counts, ids) or why it was refused. */
  result: Record<string, unknown>;
  requestId?: string;
}

/** Writes an audit entry; pass the transaction of the change so both commit or neither. */
export async function insertAuditEntry(trx: Executor, entry: AuditEntry): Promise<void> {
  await trx.raw(
    `insert into audit_log (actor, action, outcome, target, result, request_id) values (?, ?, ?, ?::jsonb, ?::jsonb, ?)`,
    [
      entry.actor,
      entry.action,
      entry.outcome,
      JSON.stringify(entry.target),
      JSON.stringify(entry.result),
      entry.requestId ?? null,
    ],
  );
}
