import { timeBoundOf } from '@orchestron/config';
import {
  discardDeadLettersInBatches,
  findEvent,
  insertAuditEntry,
  listDeadLetters,
  listEveryDeadLetter,
  narrowsSelection,
  replayDeadLettersInBatches,
  type DeadLetterFilter,
  type DeadLetterRecord,
  type DeadLetterStatus,
} from '@orchestron/db';
import { Problem, type ProblemError } from '@orchestron/http';
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
  timeBoundDescription,
} from '../openapi/schema-helpers';
import { notFound, pageOf, QueryReader } from '../query';
import { payloadJson } from './events';
import type { RouteDependencies } from './index';

const STATUSES: readonly DeadLetterStatus[] = ['dead', 'replayed', 'discarded'];
const isIdCursor = (key: unknown): key is number => Number.isSafeInteger(key) && (key as number) > 0;

/** The body of POST /v1/dead-letters/replay and /discard (checked against DeadLetterSelection). */
interface Selection {
  ids?: number[];
  filter?: { destination?: string; type?: string; source?: string; since?: string; until?: string; error?: string };
  all?: boolean;
  dry_run?: boolean;
  limit?: number;
}

/**
 * The dead-letter queue, as `orchestron dlq list|show|replay|discard` sees it, limited to the
 * key's scope. Replay and discard run in batches of short transactions, each with its audit
 * entry, as the CLI's do.
 */
export function deadLetterRoutes({ db, settings, cipher }: RouteDependencies): AdminRoute[] {
  const action = (verb: 'replay' | 'discard'): AdminRoute => ({
    method: 'post',
    path: `/v1/dead-letters/${verb}`,
    permission: 'dead_letters.write',
    auditAction: `dead_letters.${verb}`,
    operation: {
      operationId: `${verb}DeadLetters`,
      summary:
        verb === 'replay'
          ? 'Put dead letters back into the outbox (new pending rows; relays are woken)'
          : 'Mark dead letters discarded (kept for the record, never replayed)',
      description:
        'Acts on dead letters with status dead, oldest first, chosen by `ids`, a `filter` or `all`, in batches of ' +
        'short transactions. With `dry_run` it only counts and lists them. Dead letters of events outside the ' +
        'key’s scope are never selected.',
      tags: ['dead-letters'],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: ref('DeadLetterSelection') } },
      },
      responses: {
        '200': json('What was (or would be) done.', ref('DeadLetterActionResult')),
        ...problems(400, 401, 403, 413, 415, 429, 503),
      },
    },
    async handle(req, res, context) {
      const selection = req.body as Selection;
      const filter = selectionFilter(selection, context);
      const limit = selection.limit ?? Number.MAX_SAFE_INTEGER;
      if (selection.dry_run) {
        const matching = await listEveryDeadLetter(db, { ...filter, status: 'dead' }, limit);
        res.json({ dry_run: true, count: matching.length, items: matching.map(actionItem) });
        return;
      }
      const target = targetOf(selection);
      const audit = (outcome: Record<string, unknown>) => ({
        actor: context.key?.name ?? '',
        action: `dead_letters.${verb}`,
        outcome: 'ok' as const,
        target,
        result: outcome,
        requestId: context.requestId,
      });
      const items =
        verb === 'replay'
          ? (
              await replayDeadLettersInBatches(db, filter, {
                limit,
                inTransaction: (trx, rows) =>
                  insertAuditEntry(
                    trx,
                    audit({ replayed: rows.length, items: rows.map((r) => ({ id: r.id, outbox_id: r.outboxId })) }),
                  ),
              })
            ).map((r) => ({
              id: r.id,
              event_id: r.eventId,
              broker: r.broker,
              destination: r.destination,
              outbox_id: r.outboxId,
            }))
          : (
              await discardDeadLettersInBatches(db, filter, {
                limit,
                inTransaction: (trx, rows) =>
                  insertAuditEntry(trx, audit({ discarded: rows.length, ids: rows.map((r) => r.id) })),
              })
            ).map((r) => ({ id: r.id, event_id: r.eventId, destination: r.destination }));
      res.json({ dry_run: false, count: items.length, items });
    },
  });

  return [
    {
      method: 'get',
      path: '/v1/dead-letters',
      permission: 'dead_letters.read',
      operation: {
        operationId: 'listDeadLetters',
        summary: 'Dead letters, oldest first, filtered as `orchestron dlq list`',
        tags: ['dead-letters'],
        parameters: [
          query('destination', 'Exact topic or exchange.'),
          query('type', 'Event type glob (`order.*`).'),
          query('source', 'Exact event source.'),
          query('since', `Dead-lettered at or after. ${timeBoundDescription}`),
          query('until', `Dead-lettered before. ${timeBoundDescription}`),
          query('error', 'The error contains this text (case-insensitive).'),
          query('status', 'dead (default), replayed or discarded.', { type: 'string', enum: [...STATUSES] }),
          limitParameter,
          cursorParameter,
        ],
        responses: {
          '200': json('A page of dead letters.', page('DeadLetter')),
          ...problems(400, 401, 403, 429, 503),
        },
      },
      async handle(req, res, { scope }) {
        const q = new QueryReader(req.query);
        const filter: DeadLetterFilter = {
          destination: q.string('destination'),
          type: q.string('type'),
          source: q.string('source'),
          since: q.time('since'),
          until: q.time('until'),
          errorContains: q.string('error'),
          status: q.oneOf('status', STATUSES) ?? 'dead',
          scope,
        };
        const limit = q.limit('limit', 50, settings.maxPageSize);
        const afterId = q.cursor('cursor', isIdCursor);
        q.done();
        const rows = await listDeadLetters(db, filter, { limit: limit + 1, afterId });
        const shown = pageOf(rows, limit, (r) => r.id);
        res.json({ items: shown.rows.map(deadLetterJson), next_cursor: shown.nextCursor });
      },
    },
    {
      method: 'get',
      path: '/v1/dead-letters/{id}',
      permission: 'dead_letters.read',
      operation: {
        operationId: 'getDeadLetter',
        summary: 'One dead letter, whatever its status, with its event’s headers and payload',
        tags: ['dead-letters'],
        parameters: [pathParameter('id', 'The dead-letter id.', { type: 'integer', minimum: 1 })],
        responses: {
          '200': json('The dead letter.', ref('DeadLetterDetail')),
          ...problems(401, 403, 404, 429, 503),
        },
      },
      async handle(req, res, { scope }) {
        const id = String(req.params.id);
        const numeric = /^\d{1,15}$/.test(id) ? Number(id) : undefined;
        const [row] = numeric ? await listDeadLetters(db, { ids: [numeric], scope }, { limit: 1 }) : [];
        const event = row && (await findEvent(db, row.eventId, scope));
        if (!row || !event) throw notFound('dead letter', id);
        res.json({ ...deadLetterJson(row), received_at: event.receivedAt, ...payloadJson(event, cipher) });
      },
    },
    action('replay'),
    action('discard'),
  ];
}

/**
 * The filter a selection describes, within the key's scope. A selection must say what it
 * means: ids, a filter, or `all` (every dead letter the key may see); an empty one is refused.
 */
function selectionFilter(selection: Selection, { scope }: RequestContext): Omit<DeadLetterFilter, 'status'> {
  const errors: ProblemError[] = [];
  const time = (name: 'since' | 'until'): Date | undefined => {
    const text = selection.filter?.[name];
    if (text === undefined) return undefined;
    const bound = timeBoundOf(text);
    if (!bound) errors.push({ pointer: `/filter/${name}`, message: `"${text}" is neither an ISO time nor a duration` });
    return bound ?? undefined;
  };
  const filter: Omit<DeadLetterFilter, 'status'> = {
    ids: selection.ids,
    destination: selection.filter?.destination,
    type: selection.filter?.type,
    source: selection.filter?.source,
    since: time('since'),
    until: time('until'),
    errorContains: selection.filter?.error,
    scope,
  };
  if (!narrowsSelection(filter) && !selection.all) {
    errors.push({
      pointer: '/',
      message: 'say which dead letters: ids, a filter, or "all": true for every one this key may see',
    });
  }
  if (errors.length > 0) {
    throw new Problem(
      400,
      'invalid-selection',
      'Invalid selection',
      'the selection of dead letters is not valid',
      errors,
    );
  }
  return filter;
}

function targetOf(selection: Selection): Record<string, unknown> {
  return {
    ...(selection.ids ? { ids: selection.ids } : {}),
    ...(selection.filter ? { filter: selection.filter } : {}),
    ...(selection.all ? { all: true } : {}),
    ...(selection.limit ? { limit: selection.limit } : {}),
  };
}

function actionItem(r: DeadLetterRecord): Record<string, unknown> {
  return { id: r.id, event_id: r.eventId, broker: r.broker, destination: r.destination };
}

function deadLetterJson(r: DeadLetterRecord): Record<string, unknown> {
  return {
    id: r.id,
    status: r.status,
    event_id: r.eventId,
    type: r.type,
    source: r.source,
    broker: r.broker,
    destination: r.destination,
    routing_key: r.routingKey,
    partition_key: r.partitionKey,
    error: r.error,
    attempts: r.attempts,
    first_attempt_at: r.firstAttemptAt,
    last_attempt_at: r.lastAttemptAt,
    dead_lettered_at: r.createdAt,
    outbox_id: r.outboxId,
    replayed_at: r.replayedAt,
    replayed_outbox_id: r.replayedOutboxId,
    discarded_at: r.discardedAt,
  };
}
