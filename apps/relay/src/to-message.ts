import { REPLAY_ATTRIBUTE, type OutboundMessage } from '@orchestron/broker';
import type { ClaimedRow } from '@orchestron/db';
import { senderTime } from './event-time';

/** Stored header names of the event's own CloudEvents attributes (ingest's stored-headers.ts). */
const ATTRIBUTE_PREFIX = 'ce-';

/**
 * The bytes of opaque data (a non-JSON media type), which ingest stores as a JSON string of
 * their base64; throws when the stored payload is not one (the row then fails and is retried
 * and dead-lettered like a rejected message).
 */
function decodeOpaquePayload(eventId: string, payload: Buffer): Buffer {
  const text: unknown = JSON.parse(payload.toString('utf8'));
  if (typeof text !== 'string') throw new Error(`event ${eventId}: a base64 payload is stored as a JSON string`);
  return Buffer.from(text, 'base64');
}

/**
 * Builds the broker-neutral message of a claimed outbox row and its payload bytes (the JSON
 * text as stored, or decrypted). Throws when the row cannot make a message: publishRows
 * turns that into this row's rejection.
 */
export function toMessage(row: ClaimedRow, payload: Buffer): OutboundMessage {
  const {
    'content-type': contentType,
    time,
    'request-id': requestId,
    'payload-encoding': payloadEncoding,
    ...carried
  } = row.headers;
  // The event's CloudEvents attributes (`ce-<name>`: id, subject, dataschema, extensions)
  // become message attributes, which each adapter writes with its binding's prefix.
  // Everything else ingest stored (trace context, API key name, static source fields)
  // travels as plain message headers; the request id under its usual HTTP name.
  const attributes: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(carried)) {
    if (name.startsWith(ATTRIBUTE_PREFIX)) attributes[name.slice(ATTRIBUTE_PREFIX.length)] = value;
    else headers[name] = value;
  }
  if (requestId) headers['x-request-id'] = requestId;
  // A CloudEvent's own id (stored as ce-id) stays its CloudEvents id when published.
  const { id: cloudEventId, ...otherAttributes } = attributes;
  // A replayed copy carries its replay's id (docs/admin.md, Replays); a sender cannot claim one.
  if (row.replayId) otherAttributes[REPLAY_ATTRIBUTE] = row.replayId;
  else if (otherAttributes[REPLAY_ATTRIBUTE] !== undefined) delete otherAttributes[REPLAY_ATTRIBUTE];
  return {
    id: row.eventId,
    ...(cloudEventId !== undefined ? { cloudEventId } : {}),
    type: row.type,
    source: row.source,
    // The sender's time whenever it gave one (never silently the receive time instead).
    time: time ? senderTime(time) : row.receivedAt,
    contentType: contentType ?? 'application/json',
    destination: row.destination,
    routingKey: row.routingKey,
    key: row.partitionKey,
    headers,
    attributes: otherAttributes,
    payload: payloadEncoding === 'base64' ? decodeOpaquePayload(row.eventId, payload) : payload,
  };
}
