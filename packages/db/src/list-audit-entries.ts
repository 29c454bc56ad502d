import type { Knex } from 'knex';
import type { AuditEntry } from './insert-audit-entry';
import type { Executor } from './types';

export interface AuditRecord extends AuditEntry {
  id: number;
  at: Date;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  outcome?: AuditEntry['outcome'];
  since?: Date;
  until?: Date;
}

/** Audit entries matching `filter`, newest first, at most `limit`; `beforeId` pages on. */
export async function listAuditEntries(
  db: Executor,
  filter: AuditFilter,
  options: { limit: number; beforeId?: number },
): Promise<AuditRecord[]> {
  const parts: string[] = ['true'];
  const bindings: Knex.Value[] = [];
  const add = (sql: string, value: Knex.Value): void => {
    parts.push(sql);
    bindings.push(value);
  };
  if (filter.actor !== undefined) add('actor = ?', filter.actor);
  if (filter.action !== undefined) add('action = ?', filter.action);
  if (filter.outcome !== undefined) add('outcome = ?', filter.outcome);
  if (filter.since !== undefined) add('at >= ?', filter.since.toISOString());
  if (filter.until !== undefined) add('at < ?', filter.until.toISOString());
  if (options.beforeId !== undefined) add('id < ?', options.beforeId);
  const result = await db.raw<{
    rows: Array<{
      id: number;
      at: Date;
      actor: string;
      action: string;
      outcome: AuditEntry['outcome'];
      target: Record<string, unknown>;
      result: Record<string, unknown>;
      request_id: string | null;
    }>;
  }>(
    `select id, at, actor, action, outcome, target, result, request_id from audit_log
     where ${parts.join(' and ')} order by id desc limit ?`,
    [...bindings, options.limit],
  );
  return result.rows.map((row) => ({
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    outcome: row.outcome,
    target: row.target,
    result: row.result,
    ...(row.request_id ? { requestId: row.request_id } : {}),
  }));
}
