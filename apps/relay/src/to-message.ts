import type { OutboundMessage } from '@orchestron/broker';
import type { ClaimedRow } from '@orchestron/db';

/** Builds the broker-neutral message of a claimed outbox row; the payload is sent as stored. */
export function toMessage(row: ClaimedRow): OutboundMessage {
  const { 'content-type': contentType, time, 'request-id': requestId, ...carried } = row.headers;
  // Everything else ingest stored with the event (trace context, API key name, source
  // attributes) travels as message headers; the request id under its usual HTTP name.
  const headers: Record<string, string> = { ...carried };
  if (requestId) headers['x-request-id'] = requestId;
  const senderTime = time ? new Date(time) : null;
  return {
    id: row.eventId,
    type: row.type,
    source: row.source,
    time: senderTime && !Number.isNaN(senderTime.getTime()) ? senderTime : row.receivedAt,
    contentType: contentType ?? 'application/json',
    destination: row.destination,
    routingKey: row.routingKey,
    key: row.partitionKey,
    headers,
    payload: Buffer.from(row.payload, 'utf8'),
  };
}
