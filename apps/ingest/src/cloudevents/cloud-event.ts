import type { IncomingEvent } from '../incoming-event';
import type { CloudEventAttributes } from './attributes';
import type { EventData } from './event-data';

/** Where the event sits in the request, for error reports and for storing its data (see IncomingEvent). */
export type EventLocation = Pick<
  IncomingEvent,
  'pointer' | 'dataPointer' | 'attributesIn' | 'dataInString' | 'dataPath'
>;

/**
 * The IncomingEvent of a checked CloudEvent. `id` is the idempotency key (unique per source,
 * as the spec requires of senders) and is carried as an attribute too, so the published event
 * keeps it; the `partitionkey` extension is the partition key; the other extensions,
 * `subject` and `dataschema` are carried as attributes. CloudEvents has no schema version:
 * the data is validated against the latest schema of its type.
 */
export function toIncomingEvent(
  attributes: CloudEventAttributes,
  data: EventData,
  dataContentType: string,
  location: EventLocation,
): IncomingEvent {
  const { partitionkey, ...extensions } = attributes.extensions;
  return {
    type: attributes.type,
    data: data.data,
    idempotencyKey: attributes.id,
    source: attributes.source,
    time: attributes.time,
    schemaVersion: null,
    partitionKey: partitionkey ?? null,
    dataContentType,
    attributes: {
      id: attributes.id,
      ...extensions,
      ...(attributes.subject !== null ? { subject: attributes.subject } : {}),
      ...(attributes.dataschema !== null ? { dataschema: attributes.dataschema } : {}),
    },
    ...(data.payloadEncoding ? { payloadEncoding: data.payloadEncoding } : {}),
    ...location,
  };
}
