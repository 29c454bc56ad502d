import { backlogByDestination, isUnrestricted, outboxStats } from '@orchestron/db';
import type { AdminRoute } from '../access/route-table';
import { json, problems, ref } from '../openapi/schema-helpers';
import type { RouteDependencies } from './index';

/** GET /v1/backlog: what `orchestron outbox stats` prints, and the same per destination. */
export function backlogRoutes({ db }: RouteDependencies): AdminRoute[] {
  return [
    {
      method: 'get',
      path: '/v1/backlog',
      permission: 'backlog.read',
      operation: {
        operationId: 'getBacklog',
        summary: 'Outbox backlog and dead letters, in total and per broker and destination',
        description:
          'The totals are the numbers of `orchestron outbox stats`. A key limited to some sources or types ' +
          'counts only the rows of events it may see.',
        tags: ['backlog'],
        responses: { '200': json('The backlog.', ref('Backlog')), ...problems(401, 403, 429, 503) },
      },
      async handle(_req, res, { scope }) {
        const destinations = await backlogByDestination(db, scope);
        const totals = isUnrestricted(scope)
          ? await outboxStats(db)
          : {
              pending: sum(destinations.map((d) => d.pending)),
              oldestPendingAgeSeconds: Math.max(0, ...destinations.map((d) => d.oldestPendingAgeSeconds)),
              oldestDueAgeSeconds: Math.max(0, ...destinations.map((d) => d.oldestDueAgeSeconds)),
              dead: sum(destinations.map((d) => d.dead)),
            };
        res.json({
          pending: totals.pending,
          oldest_pending_age_seconds: totals.oldestPendingAgeSeconds,
          oldest_due_age_seconds: totals.oldestDueAgeSeconds,
          dead: totals.dead,
          destinations: destinations.map((d) => ({
            broker: d.broker,
            destination: d.destination,
            pending: d.pending,
            oldest_pending_age_seconds: d.oldestPendingAgeSeconds,
            oldest_due_age_seconds: d.oldestDueAgeSeconds,
            dead: d.dead,
          })),
        });
      },
    },
  ];
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
