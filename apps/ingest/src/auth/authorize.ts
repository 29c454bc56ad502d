import type { ApiKeyRecord } from '@orchestron/db';
import type { IncomingEvent } from '../incoming-event';
import { attributeError } from '../error-location';
import { Problem, type ProblemError } from '@orchestron/http';
import { anyGlobMatches } from '@orchestron/routing';

/** The role a key needs to write events. */
export const INGEST_ROLE = 'ingest';

/**
 * 403 unless the key may write every event of the request: it has the ingest role, and each
 * event's source and type match its allowed patterns. Every refused event is listed.
 */
export function authorizeEvents(
  key: ApiKeyRecord | undefined,
  events: readonly IncomingEvent[],
  defaultSource: string,
): void {
  if (!key) return;
  if (!key.roles.includes(INGEST_ROLE)) {
    throw new Problem(403, 'forbidden', 'Forbidden', `the API key "${key.name}" lacks the ${INGEST_ROLE} role`);
  }
  const errors: ProblemError[] = [];
  for (const event of events) {
    const source = event.source ?? defaultSource;
    if (!anyGlobMatches(key.allowedSources, source)) {
      errors.push(attributeError(event, 'source', `source "${source}" is not allowed for this key`));
    }
    if (!anyGlobMatches(key.allowedTypes, event.type)) {
      errors.push(attributeError(event, 'type', `event type "${event.type}" is not allowed for this key`));
    }
  }
  if (errors.length > 0) {
    throw new Problem(403, 'forbidden', 'Forbidden', `the API key "${key.name}" may not write these events`, errors);
  }
}
