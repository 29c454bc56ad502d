import {
  findEvent,
  listEventDeliveries,
  listEvents,
  PayloadDecryptionError,
  type DeliveryRecord,
  type EventDetail,
  type EventStatus,
  type EventSummary,
  type PayloadCipher,
} from '@orchestron/db';
import type { AdminRoute } from '../access/route-table';
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
import type { RouteDependencies } from './index';

const STATUSES: readonly EventStatus[] = ['pending', 'published', 'dead'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isEventCursor = (key: unknown): key is string => typeof key === 'string' && UUID.test(key);

/** GET /v1/events and GET /v1/events/{id}: find events, see what happened to each. */
export function eventRoutes({ db, settings, cipher }: RouteDependencies): AdminRoute[] {
  return [
    {
      method: 'get',
      path: '/v1/events',
      permission: 'events.read',
      operation: {
        operationId: 'listEvents',
        summary: 'Events, newest first, filtered',
        description: 'Only events within the key’s source and type scope are listed.',
        tags: ['events'],
        parameters: [
          query('source', 'Exact event source.'),
          query('type', 'Event type glob: `*` matches any run of characters (`order.*`).'),
          query('since', `Received at or after. ${timeBoundDescription}`),
          query('until', `Received before. ${timeBoundDescription}`),
          query('status', 'Where the event stands.', { type: 'string', enum: [...STATUSES] }),
          limitParameter,
          cursorParameter,
        ],
        responses: { '200': json('A page of events.', page('EventSummary')), ...problems(400, 401, 403, 429, 503) },
      },
      async handle(req, res, { scope }) {
        const q = new QueryReader(req.query);
        const filter = {
          source: q.string('source'),
          type: q.string('type'),
          since: q.time('since'),
          until: q.time('until'),
          status: q.oneOf('status', STATUSES),
          scope,
        };
        const limit = q.limit('limit', 50, settings.maxPageSize);
        const beforeId = q.cursor('cursor', isEventCursor);
        if (filter.since && filter.until && filter.since >= filter.until)
          q.problem('until', 'must be later than since');
        q.done();
        const rows = await listEvents(db, filter, { limit: limit + 1, beforeId });
        const shown = pageOf(rows, limit, (e) => e.id);
        res.json({ items: shown.rows.map(summaryJson), next_cursor: shown.nextCursor });
      },
    },
    {
      method: 'get',
      path: '/v1/events/{id}',
      permission: 'events.read',
      operation: {
        operationId: 'getEvent',
        summary: 'One event: payload, headers, and per destination its outbox rows and dead letters',
        tags: ['events'],
        parameters: [pathParameter('id', 'The event id (a UUID).', { type: 'string', format: 'uuid' })],
        responses: {
          '200': json('The event and its deliveries.', ref('EventDetail')),
          ...problems(401, 403, 404, 429, 503),
        },
      },
      async handle(req, res, { scope }) {
        const id = String(req.params.id);
        // Not a UUID: no event has that id (404 rather than 400, the same answer as outside the scope).
        const event = UUID.test(id) ? await findEvent(db, id, scope) : undefined;
        if (!event) throw notFound('event', id);
        const deliveries = await listEventDeliveries(db, id);
        res.json({ ...summaryJson(event), ...payloadJson(event, cipher), deliveries: groupByDestination(deliveries) });
      },
    },
  ];
}

function summaryJson(e: EventSummary): Record<string, unknown> {
  return {
    id: e.id,
    source: e.source,
    type: e.type,
    schema_version: e.schemaVersion,
    idempotency_key: e.idempotencyKey,
    received_at: e.receivedAt,
    status: e.status,
  };
}

/** Headers and payload; an encrypted payload is decrypted when this admin holds its key. */
export function payloadJson(event: EventDetail, cipher: PayloadCipher | undefined): Record<string, unknown> {
  let payload: unknown = event.payload === null ? null : JSON.parse(event.payload);
  if (event.encrypted && cipher) {
    try {
      payload = JSON.parse(cipher.decrypt(event.id, event.encrypted).toString('utf8'));
    } catch (error) {
      if (!(error instanceof PayloadDecryptionError)) throw error;
    }
  }
  return { headers: event.headers, payload, payload_encrypted: event.encrypted !== null };
}

/** Outbox rows grouped per destination (broker, destination, routing key), oldest row first. */
function groupByDestination(rows: readonly DeliveryRecord[]): Array<Record<string, unknown>> {
  const groups = new Map<string, { head: DeliveryRecord; rows: DeliveryRecord[] }>();
  for (const row of rows) {
    const key = JSON.stringify([row.broker, row.destination, row.routingKey, row.partitionKey]);
    const group = groups.get(key) ?? { head: row, rows: [] };
    group.rows.push(row);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ head, rows: outbox }) => ({
    broker: head.broker,
    destination: head.destination,
    routing_key: head.routingKey,
    partition_key: head.partitionKey,
    outbox: outbox.map((o) => ({
      id: o.outboxId,
      status: o.status,
      attempts: o.attempts,
      last_error: o.lastError,
      created_at: o.createdAt,
      first_attempt_at: o.firstAttemptAt,
      last_attempt_at: o.lastAttemptAt,
      next_attempt_at: o.nextAttemptAt,
      published_at: o.publishedAt,
      dead_letter: o.deadLetter && {
        id: o.deadLetter.id,
        status: o.deadLetter.status,
        error: o.deadLetter.error,
        dead_lettered_at: o.deadLetter.createdAt,
        replayed_at: o.deadLetter.replayedAt,
        replayed_outbox_id: o.deadLetter.replayedOutboxId,
        discarded_at: o.deadLetter.discardedAt,
      },
    })),
  }));
}
