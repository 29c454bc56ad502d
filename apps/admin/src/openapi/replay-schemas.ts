import { MAX_REPLAY_IDS } from '@orchestron/replay';
import { dateTime, integer, nullable, ref, strictObject, text, timeBoundDescription } from './schema-helpers';

const globs = (what: string) => ({
  type: 'array',
  items: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' },
  minItems: 1,
  maxItems: 100,
  description: `${what} globs (\`*\` matches any run of characters); an event matches when one of them does.`,
});
const destinationName = { type: 'string', pattern: '^[A-Za-z0-9._:/-]{1,249}$' };
const uuid = { type: 'string', format: 'uuid' } as const;

/** The schemas of the replay routes (routes/replays.ts), part of the document's components. */
export const replaySchemas = {
  ReplayFilter: {
    type: 'object',
    description: 'Which stored events: every field given must match, within the key’s source/type scope.',
    properties: {
      sources: globs('Event source'),
      types: globs('Event type'),
      since: { type: 'string', minLength: 1, description: `Received at or after. ${timeBoundDescription}` },
      until: {
        type: 'string',
        minLength: 1,
        description: `Received before; default: the time of the request. ${timeBoundDescription}`,
      },
      ids: { type: 'array', items: uuid, minItems: 1, maxItems: MAX_REPLAY_IDS, description: 'Event ids.' },
    },
    additionalProperties: false,
  },
  ReplayTarget: {
    description: 'Where to send the events instead of their original routes.',
    oneOf: [
      strictObject({ broker: { const: 'kafka' }, topic: destinationName }),
      strictObject(
        {
          broker: { const: 'rabbitmq' },
          exchange: destinationName,
          routing_key: { type: 'string', maxLength: 255, description: 'Default: the event type.' },
        },
        ['routing_key'],
      ),
    ],
  },
  ReplayRequest: {
    type: 'object',
    properties: {
      filter: ref('ReplayFilter'),
      target: {
        ...nullable(ref('ReplayTarget')),
        description: 'Absent or null: each event’s original routes (its outbox rows as ingest wrote them).',
      },
      rate_limit: {
        type: 'integer',
        minimum: 1,
        description: 'Events per second (default replay.default_rate_limit, at most replay.max_rate_limit).',
      },
      dry_run: { type: 'boolean', description: 'Only count what the replay would take; change nothing.' },
      confirm_count: {
        type: 'integer',
        minimum: 0,
        description: 'The dry-run count, repeated: needed when neither ids nor since bound the replay.',
      },
    },
    additionalProperties: false,
  },
  ReplayDryRun: strictObject({
    dry_run: { const: true },
    count: { ...integer, description: 'Events the replay would take.' },
    without_original_route: {
      ...integer,
      description: 'Of those, events with no original outbox row left: skipped unless a target is named.',
    },
    filter: ref('ReplayFilter'),
  }),
  Replay: strictObject({
    id: uuid,
    status: { type: 'string', enum: ['queued', 'running', 'completed', 'cancelled', 'failed'] },
    requested_by: { type: 'string', description: 'The name of the API key (or `cli:<user>`) that started it.' },
    filter: ref('ReplayFilter'),
    scope: strictObject({ sources: { type: 'array', items: text }, types: { type: 'array', items: text } }),
    target: nullable(ref('ReplayTarget')),
    rate_limit: integer,
    total: { ...integer, description: 'Events matching when it was started.' },
    matched: { ...integer, description: 'Events walked so far.' },
    enqueued: { ...integer, description: 'Messages enqueued so far (one per route of each event).' },
    skipped: { ...integer, description: 'Events walked that had no original route left.' },
    cursor: { ...nullable(uuid), description: 'The last event id walked; a restart resumes after it.' },
    created_at: dateTime,
    started_at: nullable(dateTime),
    finished_at: nullable(dateTime),
    cancelled_by: nullable(text),
    error: nullable(text),
  }),
};
