import type { SchemaRegistry } from '@orchestron/schemas';
import { attributeError, dataError, isTypeError } from './error-location';
import type { IncomingEvent } from './incoming-event';
import { Problem, type ProblemError } from '@orchestron/http';

/**
 * Validates every event's `data` against its type's schema. All events of a batch are
 * checked and every violation is reported (422), pointing into the request body; events
 * of an unknown type or schema version are 422 too, and so is an event time in the future
 * (beyond the allowed clock skew), unless `acceptUnknownType` says yes: then an event
 * of a type without any schema passes unvalidated. Returns each event's schema version (null
 * for an unvalidated one).
 */
export function validateEvents(
  registry: SchemaRegistry,
  events: readonly IncomingEvent[],
  options: { acceptUnknownType?: (event: IncomingEvent) => boolean; maxClockSkewMs?: number } = {},
): Array<number | null> {
  const errors: ProblemError[] = [];
  const latest = Date.now() + (options.maxClockSkewMs ?? 5 * 60_000);
  const versions = events.map((event) => {
    if (event.time !== null && Date.parse(event.time) > latest) {
      errors.push(attributeError(event, 'time', 'must not be in the future'));
    }
    const outcome = registry.validate(event.type, event.schemaVersion, event.data);
    if (outcome.ok) return outcome.version;
    if (outcome.reason === 'unknown-type' && options.acceptUnknownType?.(event)) return null;
    if (outcome.reason === 'invalid') {
      for (const v of outcome.violations) errors.push(dataError(event, v.pointer, v.message));
      return outcome.version;
    }
    errors.push(attributeError(event, outcome.reason === 'unknown-type' ? 'type' : 'schema_version', outcome.message));
    return 0;
  });
  if (errors.length > 0) {
    const unknownTypeOnly = errors.every(isTypeError);
    throw new Problem(
      422,
      unknownTypeOnly ? 'unknown-event-type' : 'schema-validation',
      unknownTypeOnly ? 'Unknown event type' : 'Schema validation failed',
      `${errors.length} problem(s) in the event data`,
      errors,
    );
  }
  return versions;
}
