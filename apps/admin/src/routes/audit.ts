import { listAuditEntries, type AuditRecord } from '@orchestron/db';
import type { AdminRoute } from '../access/route-table';
import {
  cursorParameter,
  json,
  limitParameter,
  page,
  problems,
  query,
  timeBoundDescription,
} from '../openapi/schema-helpers';
import { pageOf, QueryReader } from '../query';
import type { RouteDependencies } from './index';

const isIdCursor = (key: unknown): key is number => Number.isSafeInteger(key) && (key as number) > 0;

/** GET /v1/audit: who changed what, newest first. */
export function auditRoutes({ db, settings }: RouteDependencies): AdminRoute[] {
  return [
    {
      method: 'get',
      path: '/v1/audit',
      permission: 'audit.read',
      operation: {
        operationId: 'listAuditEntries',
        summary: 'The audit log: every state-changing admin action and every refused attempt at one',
        tags: ['audit'],
        parameters: [
          query('actor', 'The acting key’s name.'),
          query('action', 'e.g. dead_letters.replay, keys.rotate.'),
          query('outcome', 'ok or refused.', { type: 'string', enum: ['ok', 'refused'] }),
          query('since', `At or after. ${timeBoundDescription}`),
          query('until', `Before. ${timeBoundDescription}`),
          limitParameter,
          cursorParameter,
        ],
        responses: {
          '200': json('A page of audit entries.', page('AuditEntry')),
          ...problems(400, 401, 403, 429, 503),
        },
      },
      async handle(req, res) {
        const q = new QueryReader(req.query);
        const filter = {
          actor: q.string('actor'),
          action: q.string('action'),
          outcome: q.oneOf('outcome', ['ok', 'refused'] as const),
          since: q.time('since'),
          until: q.time('until'),
        };
        const limit = q.limit('limit', 50, settings.maxPageSize);
        const beforeId = q.cursor('cursor', isIdCursor);
        q.done();
        const rows = await listAuditEntries(db, filter, { limit: limit + 1, beforeId });
        const shown = pageOf(rows, limit, (r) => r.id);
        res.json({ items: shown.rows.map(entryJson), next_cursor: shown.nextCursor });
      },
    },
  ];
}

function entryJson(e: AuditRecord): Record<string, unknown> {
  return {
    id: e.id,
    at: e.at,
    actor: e.actor,
    action: e.action,
    outcome: e.outcome,
    target: e.target,
    result: e.result,
    ...(e.requestId ? { request_id: e.requestId } : {}),
  };
}
