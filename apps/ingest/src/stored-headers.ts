import type { IncomingEvent } from './incoming-event';

/** What the request contributes to every event's stored headers. */
export interface HeaderContext {
  requestId: string;
  apiKeyName: string | null;
  traceparent: string;
  tracestate?: string;
  staticFields?: Record<string, string>;
}

/** Stored header names of an event's CloudEvents attributes: `ce-subject`, `ce-<extension>`. */
export const ATTRIBUTE_PREFIX = 'ce-';

/**
 * The `headers` stored with an event, in two namespaces that never mix: the event's own
 * CloudEvents attributes (id, subject, dataschema, extensions) as `ce-<attribute>`, and
 * Orchestron's metadata under plain names — `content-type` and `time` (the data's media type
 * and the sender's time, published as the core attributes), `request-id`, the W3C
 * `traceparent`/`tracestate` of the ingest request, `api-key`, a webhook source's static
 * fields, and `payload-encoding` for opaque data. Relay (to-message.ts) maps them back.
 */
export function storedHeaders(event: IncomingEvent, context: HeaderContext): Record<string, string> {
  const attributes = Object.fromEntries(
    Object.entries(event.attributes).map(([name, value]) => [`${ATTRIBUTE_PREFIX}${name}`, value]),
  );
  return {
    ...attributes,
    ...context.staticFields,
    'content-type': event.dataContentType,
    'request-id': context.requestId,
    traceparent: context.traceparent,
    ...(context.tracestate ? { tracestate: context.tracestate } : {}),
    ...(context.apiKeyName ? { 'api-key': context.apiKeyName } : {}),
    ...(event.time ? { time: event.time } : {}),
    ...(event.payloadEncoding ? { 'payload-encoding': event.payloadEncoding } : {}),
  };
}
