import { insertAuditEntry, type ReplayStatus } from '@orchestron/db';
import { Problem } from '@orchestron/http';
import {
  cancelVisibleReplay,
  filterJson,
  getReplay,
  isUuid,
  listVisibleReplays,
  parseReplayRequest,
  ReplayConfirmationError,
  ReplayFinishedError,
  ReplayNotFoundError,
  ReplayRequestError,
  replayJson,
  requestReplay,
  type ReplayActor,
} from '@orchestron/replay';
import type { AdminRoute, RequestContext } from '../access/route-table';
import {
  cursorParameter,
  json,
  limitParameter,
  page,
  pathParameter,
  problems,
  query,
  ref,
} from '../openapi/schema-helpers';
import { notFound, pageOf, QueryReader } from '../query';
import type { RouteDependencies } from './index';

const STATUSES: readonly ReplayStatus[] = ['queued', 'running', 'completed', 'cancelled', 'failed'];
const replayId = pathParameter('id', 'The replay id (a UUID).', { type: 'string', format: 'uuid' });

const actorOf = (context: RequestContext): ReplayActor => ({ name: context.key?.name ?? '', scope: context.scope });

/** A problem the request's own fields caused, one entry per field (JSON pointer into the body). */
function invalidRequest(error: ReplayRequestError): Problem {
  return new Problem(
    400,
    'invalid-replay',
    'Invalid replay request',
    'the replay request is not valid',
    error.problems.map((problem) => {
      const field = problem.slice(0, problem.indexOf(':'));
      return { pointer: field.includes(' ') || field === '' ? '' : `/${field.replace(/\./g, '/')}`, message: problem };
    }),
  );
}

/**
 * Replays of stored events (docs/admin.md, Replays): POST /v1/replays starts one (or, with
 * dry_run, counts what it would take), the runner (replay.*) does the work in the background.
 * A key replays only events within its source/type scope and sees only the replays made
 * under its very scope (an unscoped key sees all).
 */
export function replayRoutes({ db, settings, replayRunner }: RouteDependencies): AdminRoute[] {
  return [
    {
      method: 'post',
      path: '/v1/replays',
      permission: 'replays.write',
      auditAction: 'replays.start',
      operation: {
        operationId: 'startReplay',
        summary: 'Re-publish stored events as a durable, paced, cancellable job (or dry-run it)',
        description:
          'Events matching the filter (and the key’s scope) are re-published, oldest first, to their original ' +
          'routes or to the named target, at most `rate_limit` events per second. Each copy keeps its event id ' +
          'and carries the CloudEvents extension `orchestronreplay` (the replay id). Without `until` the replay ' +
          'ends at the time of the request. A replay with neither `ids` nor `since` starts only with ' +
          '`confirm_count` equal to the count a dry run gives (409 otherwise).',
        tags: ['replays'],
        requestBody: { required: true, content: { 'application/json': { schema: ref('ReplayRequest') } } },
        responses: {
          '200': json('Dry run: what the replay would take; nothing was changed.', ref('ReplayDryRun')),
          '202': {
            ...json('The replay, queued; follow it at Location.', ref('Replay')),
            headers: { Location: { description: 'The replay’s URL.', schema: { type: 'string' } } },
          },
          ...problems(400, 401, 403, 409, 413, 415, 429, 503),
        },
      },
      async handle(req, res, context) {
        let request;
        try {
          request = parseReplayRequest(req.body, { maxRateLimit: settings.replay.maxRateLimit });
        } catch (error) {
          if (error instanceof ReplayRequestError) throw invalidRequest(error);
          throw error;
        }
        try {
          const result = await requestReplay(db, request, actorOf(context), {
            defaultRateLimit: settings.replay.defaultRateLimit,
            requestId: context.requestId,
          });
          if (result.dryRun) {
            res.json({
              dry_run: true,
              count: result.count.events,
              without_original_route: result.count.withoutOriginalRoute,
              filter: filterJson(result.filter),
            });
            return;
          }
          replayRunner?.wake();
          res.status(202).location(`/v1/replays/${result.replay.id}`).json(replayJson(result.replay));
        } catch (error) {
          if (!(error instanceof ReplayConfirmationError)) throw error;
          await insertAuditEntry(db, {
            actor: context.key?.name ?? '',
            action: 'replays.start',
            outcome: 'refused',
            target: { body: req.body as Record<string, unknown> },
            result: { status: 409, count: error.count, reason: error.message },
            requestId: context.requestId,
          });
          throw new Problem(409, 'replay-not-confirmed', 'Replay not confirmed', error.message);
        }
      },
    },
    {
      method: 'get',
      path: '/v1/replays',
      permission: 'replays.read',
      operation: {
        operationId: 'listReplays',
        summary: 'Replays, newest first',
        tags: ['replays'],
        parameters: [
          query('status', 'Only replays in this state.', { type: 'string', enum: [...STATUSES] }),
          limitParameter,
          cursorParameter,
        ],
        responses: { '200': json('A page of replays.', page('Replay')), ...problems(400, 401, 403, 429, 503) },
      },
      async handle(req, res, context) {
        const reader = new QueryReader(req.query);
        const status = reader.oneOf('status', STATUSES);
        const limit = reader.limit('limit', 50, settings.maxPageSize);
        const before = reader.cursor('cursor', (key): key is string => typeof key === 'string' && isUuid(key));
        reader.done();
        const rows = await listVisibleReplays(db, actorOf(context), {
          limit: limit + 1,
          ...(status ? { status } : {}),
          ...(before ? { beforeId: before } : {}),
        });
        const shown = pageOf(rows, limit, (r) => r.id);
        res.json({ items: shown.rows.map(replayJson), next_cursor: shown.nextCursor });
      },
    },
    {
      method: 'get',
      path: '/v1/replays/{id}',
      permission: 'replays.read',
      operation: {
        operationId: 'getReplay',
        summary: 'One replay and its progress',
        tags: ['replays'],
        parameters: [replayId],
        responses: { '200': json('The replay.', ref('Replay')), ...problems(401, 403, 404, 429, 503) },
      },
      async handle(req, res, context) {
        const id = String(req.params.id);
        try {
          res.json(replayJson(await getReplay(db, id, actorOf(context))));
        } catch (error) {
          if (error instanceof ReplayNotFoundError) throw notFound('replay', id);
          throw error;
        }
      },
    },
    {
      method: 'post',
      path: '/v1/replays/{id}/cancel',
      permission: 'replays.write',
      auditAction: 'replays.cancel',
      operation: {
        operationId: 'cancelReplay',
        summary: 'Cancel a queued or running replay',
        description:
          'The runner stops at its next batch; nothing is enqueued after the answer. Messages already enqueued ' +
          'are still published.',
        tags: ['replays'],
        parameters: [replayId],
        responses: {
          '200': json('The replay, cancelled.', ref('Replay')),
          ...problems(401, 403, 404, 409, 429, 503),
        },
      },
      async handle(req, res, context) {
        const id = String(req.params.id);
        try {
          res.json(replayJson(await cancelVisibleReplay(db, id, actorOf(context), { requestId: context.requestId })));
        } catch (error) {
          if (error instanceof ReplayNotFoundError) throw notFound('replay', id);
          if (error instanceof ReplayFinishedError) {
            throw new Problem(409, 'replay-ended', 'Replay already ended', error.message);
          }
          throw error;
        }
      },
    },
  ];
}
