import { dateTime, integer, nullable, ref, strictObject, text } from './schema-helpers';
import { replaySchemas } from './replay-schemas';

const problem = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  properties: {
    type: { type: 'string', format: 'uri' },
    title: text,
    status: integer,
    detail: text,
    instance: text,
    request_id: text,
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { pointer: text, header: text, parameter: text, message: text },
        required: ['message'],
        additionalProperties: false,
      },
    },
  },
  required: ['type', 'title', 'status', 'instance', 'request_id'],
  additionalProperties: false,
};

const deadLetterProperties = {
  id: integer,
  status: { type: 'string', enum: ['dead', 'replayed', 'discarded'] },
  event_id: { type: 'string', format: 'uuid' },
  type: text,
  source: text,
  broker: text,
  destination: text,
  routing_key: text,
  partition_key: nullable(text),
  error: text,
  attempts: integer,
  first_attempt_at: nullable(dateTime),
  last_attempt_at: dateTime,
  dead_lettered_at: dateTime,
  outbox_id: integer,
  replayed_at: nullable(dateTime),
  replayed_outbox_id: nullable(integer),
  discarded_at: nullable(dateTime),
};

const apiKeyProperties = {
  name: text,
  prefix: { type: 'string', description: 'The first characters of the secret, to tell keys apart.' },
  roles: { type: 'array', items: text },
  sources: { type: 'array', items: text },
  types: { type: 'array', items: text },
  created_at: dateTime,
  revoked_at: nullable(dateTime),
  last_used_at: nullable(dateTime),
  previous_secret_expires_at: {
    ...nullable(dateTime),
    description: 'After a rotation: until when the old secret still works.',
  },
};

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

/** Schemas and responses shared by the operations of all route modules. */
export const components = {
  securitySchemes: {
    bearer: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer orc_…`.' },
    apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same key in `X-API-Key`.' },
  },
  responses: {
    '400': problemResponse('Malformed request: every problem is listed in `errors`.'),
    '401': problemResponse('No API key, or not a valid one.'),
    '403': problemResponse('The key lacks the permission this route needs (its roles).'),
    '404': problemResponse('No such resource, or outside the key’s source/type scope.'),
    '409': problemResponse('Conflicts with the current state.'),
    '413': problemResponse('Body too large.'),
    '415': problemResponse('Body is not application/json.'),
    '429': problemResponse('Rate limited: retry after `Retry-After` seconds.'),
    '503': problemResponse('The database cannot be reached; retry later.'),
  },
  schemas: {
    Problem: problem,
    EventStatus: {
      type: 'string',
      enum: ['pending', 'published', 'dead'],
      description:
        'dead: a dead letter of it waits for an operator; pending: an outbox row waits to be published; published: neither.',
    },
    EventSummary: strictObject({
      id: { type: 'string', format: 'uuid' },
      source: text,
      type: text,
      schema_version: nullable(integer),
      idempotency_key: nullable(text),
      received_at: dateTime,
      status: ref('EventStatus'),
    }),
    DeadLetterEntry: strictObject({
      id: integer,
      status: { type: 'string', enum: ['dead', 'replayed', 'discarded'] },
      error: text,
      dead_lettered_at: dateTime,
      replayed_at: nullable(dateTime),
      replayed_outbox_id: nullable(integer),
      discarded_at: nullable(dateTime),
    }),
    OutboxRow: strictObject({
      id: integer,
      status: { type: 'string', enum: ['pending', 'published', 'dead'] },
      attempts: integer,
      last_error: nullable(text),
      created_at: dateTime,
      first_attempt_at: nullable(dateTime),
      last_attempt_at: nullable(dateTime),
      next_attempt_at: dateTime,
      published_at: nullable(dateTime),
      dead_letter: nullable(ref('DeadLetterEntry')),
    }),
    Delivery: strictObject({
      broker: text,
      destination: text,
      routing_key: text,
      partition_key: nullable(text),
      outbox: { type: 'array', items: ref('OutboxRow'), description: 'Oldest first: the first try, then replays.' },
    }),
    EventDetail: {
      ...strictObject({
        id: { type: 'string', format: 'uuid' },
        source: text,
        type: text,
        schema_version: nullable(integer),
        idempotency_key: nullable(text),
        received_at: dateTime,
        status: ref('EventStatus'),
        headers: { type: 'object', additionalProperties: text },
        payload: { description: 'The event data as received; null when encrypted at rest and not readable here.' },
        payload_encrypted: { type: 'boolean' },
        deliveries: { type: 'array', items: ref('Delivery') },
      }),
    },
    DestinationBacklog: strictObject({
      broker: text,
      destination: text,
      pending: integer,
      oldest_pending_age_seconds: { type: 'number' },
      oldest_due_age_seconds: { type: 'number' },
      dead: integer,
    }),
    Backlog: strictObject({
      pending: integer,
      oldest_pending_age_seconds: { type: 'number' },
      oldest_due_age_seconds: {
        type: 'number',
        description: 'How long the longest-waiting due row has been due (rows in a retry backoff do not count).',
      },
      dead: integer,
      destinations: { type: 'array', items: ref('DestinationBacklog') },
    }),
    DeadLetter: strictObject(deadLetterProperties),
    DeadLetterDetail: strictObject({
      ...deadLetterProperties,
      received_at: dateTime,
      headers: { type: 'object', additionalProperties: text },
      payload: { description: 'The event data; null when encrypted at rest and not readable here.' },
      payload_encrypted: { type: 'boolean' },
    }),
    DeadLetterFilter: {
      type: 'object',
      description: 'Every field given must match (as `orchestron dlq` filters).',
      properties: {
        destination: { type: 'string', minLength: 1, description: 'Exact topic or exchange.' },
        type: { type: 'string', minLength: 1, description: 'Event type glob (`order.*`).' },
        source: { type: 'string', minLength: 1, description: 'Exact event source.' },
        since: { type: 'string', minLength: 1, description: 'Dead-lettered at or after (ISO time or duration ago).' },
        until: { type: 'string', minLength: 1, description: 'Dead-lettered before (ISO time or duration ago).' },
        error: { type: 'string', minLength: 1, description: 'The error contains this text (case-insensitive).' },
      },
      additionalProperties: false,
    },
    DeadLetterSelection: {
      type: 'object',
      description:
        'Which dead letters (status dead) to act on: `ids`, a `filter`, both (both must match), or `all: true` for every one.',
      properties: {
        ids: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 10000 },
        filter: ref('DeadLetterFilter'),
        all: {
          type: 'boolean',
          description: 'Act on every dead letter the key may see; needed when nothing else narrows.',
        },
        dry_run: { type: 'boolean', description: 'Only count and list what would be done; change nothing.' },
        limit: { type: 'integer', minimum: 1, description: 'Act on at most this many (oldest first).' },
      },
      additionalProperties: false,
    },
    DeadLetterActionResult: {
      type: 'object',
      properties: {
        dry_run: { type: 'boolean' },
        count: { type: 'integer', description: 'How many were (or, in a dry run, would be) replayed or discarded.' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: integer,
              event_id: { type: 'string', format: 'uuid' },
              broker: text,
              destination: text,
              outbox_id: { ...integer, description: 'Replays: the new outbox row.' },
            },
            required: ['id', 'event_id', 'destination'],
            additionalProperties: false,
          },
        },
      },
      required: ['dry_run', 'count', 'items'],
      additionalProperties: false,
    },
    ApiKey: strictObject(apiKeyProperties),
    ApiKeyList: strictObject({ items: { type: 'array', items: ref('ApiKey') } }),
    ApiKeyWithSecret: strictObject({
      ...apiKeyProperties,
      key: { type: 'string', description: 'The secret. Shown once: only its hash is stored.' },
    }),
    AuditEntry: strictObject(
      {
        id: integer,
        at: dateTime,
        actor: { type: 'string', description: 'The name of the API key that acted.' },
        action: text,
        outcome: { type: 'string', enum: ['ok', 'refused'] },
        target: { type: 'object' },
        result: { type: 'object' },
        request_id: text,
      },
      ['request_id'],
    ),
    ...replaySchemas,
  },
};
