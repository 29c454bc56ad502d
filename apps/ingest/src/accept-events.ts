import type { Knex } from 'knex';
import type { PayloadCipher } from '@orchestron/db';
import type { IngestMetrics, Logger } from '@orchestron/observability';
import { anyGlobMatches, routeEvent, type RoutingTable } from '@orchestron/routing';
import type { SchemaRegistry } from '@orchestron/schemas';
import type { IncomingEvent } from './incoming-event';
import { checkSizes, type SizeLimits } from './message-size';
import type { OutboxNotifier } from './outbox-notifier';
import { eventLabels } from './metric-labels';
import { storedHeaders } from './stored-headers';
import { storeEvents } from './store-events';
import { validateEvents } from './validate-events';

/** Events without a source of their own are stored under this one. */
export const DEFAULT_SOURCE = 'default';

/** What accepting needs; the getters are read per request, so a reload applies to the next one. */
export interface AcceptDependencies {
  db: Knex;
  logger: Logger;
  metrics: IngestMetrics;
  schemas: () => SchemaRegistry;
  routing: () => RoutingTable;
  /** How far in the future an event's time may lie (sender clock skew). */
  maxClockSkewMs: () => number;
  /** Whether a source is one ingest knows (the default, a configured webhook source): its own metric label. */
  knownSource: (source: string) => boolean;
  /** Source globs whose events of a type without a schema are stored unvalidated. */
  acceptUnknownTypesFrom?: () => readonly string[];
  /** Encrypts payloads at rest when an encryption key is active. */
  cipher?: PayloadCipher;
  /** Bounds on numbers and on the stored and published size of events. */
  sizeLimits: SizeLimits;
  /** Wakes the relays after a commit that wrote outbox rows (or has the commit carry the NOTIFY). */
  notifier: Pick<OutboxNotifier, 'carry' | 'carried' | 'poke'>;
}

/** Who sent the request and how: stored with every event of it. */
export interface RequestContext {
  requestId: string;
  /** The source to use for events that name none. */
  defaultSource: string;
  /** Name of the API key that authenticated the request, if one did. */
  apiKeyName: string | null;
  /** W3C trace context of the request (generated when the caller sent none). */
  traceparent: string;
  tracestate?: string;
  /** An event type without a schema: 422 (`reject`, the default), or stored unvalidated (`accept`). */
  unknownTypes?: 'reject' | 'accept';
  /** Attributes stored with every event of the request (per-source enrichment). */
  staticFields?: Record<string, string>;
}

export interface AcceptResult {
  /** 202 when at least one event is new, 200 when every one was a re-delivery. */
  status: 200 | 202;
  body: { id: string } | { ids: string[] };
}

/**
 * The one path every accepted event takes, whatever its wire format: validate all events
 * (nothing is written unless every one passes), route each, check what they would take stored
 * and published (checkSizes), and store them with their
 * outbox rows in one transaction. Resolves after the commit; the relays are notified at it or after it.
 */
export async function acceptEvents(
  deps: AcceptDependencies,
  events: readonly IncomingEvent[],
  context: RequestContext,
  /** `body`: the request's JSON text, which the events' `dataPath`s point into. */
  options: { batch: boolean; body?: string },
): Promise<AcceptResult> {
  const acceptFrom = deps.acceptUnknownTypesFrom?.() ?? [];
  const versions = validateEvents(deps.schemas(), events, {
    acceptUnknownType: (e) =>
      context.unknownTypes === 'accept' || anyGlobMatches(acceptFrom, e.source ?? context.defaultSource),
    maxClockSkewMs: deps.maxClockSkewMs(),
  });
  // One table for the whole request: a reload mid-request must not split a batch's routes.
  const routing = deps.routing();
  const toStore = events.map((e, i) => {
    const source = e.source ?? context.defaultSource;
    return {
      source,
      type: e.type,
      schemaVersion: versions[i] ?? null,
      idempotencyKey: e.idempotencyKey,
      data: e.data,
      ...(e.dataPath ? { dataPath: e.dataPath } : {}),
      headers: storedHeaders(e, context),
      destinations: routeEvent({ type: e.type, source, data: e.data, partitionKey: e.partitionKey }, routing),
    };
  });
  checkSizes(options.body, toStore, deps.sizeLimits);
  const carriesNotify = toStore.some((e) => e.destinations.length > 0) && deps.notifier.carry();
  let notified = false;
  let stored;
  try {
    ({ stored, notified } = await storeEvents(deps.db, toStore, deps.cipher, options.body, carriesNotify));
  } finally {
    if (carriesNotify) deps.notifier.carried(notified);
  }
  if (!notified && stored.some((s, i) => s.inserted && (toStore[i]?.destinations.length ?? 0) > 0)) {
    deps.notifier.poke();
  }
  const schemas = deps.schemas();
  const known = { isSource: deps.knownSource, isType: (type: string) => schemas.has(type) };
  stored.forEach((s, i) => {
    const e = toStore[i] as (typeof toStore)[number];
    deps.metrics.eventsReceived.inc({ ...eventLabels(e, known), outcome: s.inserted ? 'accepted' : 'duplicate' });
  });
  deps.logger.debug('events stored', { requestId: context.requestId, eventIds: stored.map((s) => s.id) });
  const status = stored.every((s) => !s.inserted) ? 200 : 202;
  return { status, body: options.batch ? { ids: stored.map((s) => s.id) } : { id: stored[0]?.id as string } };
}
