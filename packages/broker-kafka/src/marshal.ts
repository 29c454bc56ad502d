import type { IHeaders, Message } from 'kafkajs';
import { cloudEventsTime, type OutboundMessage, type ReceivedMessage } from '@orchestron/broker';

/**
 * Mapping between the broker-neutral envelope and a Kafka record, following the CloudEvents
 * Kafka protocol binding (binary mode): the payload is the value, the partition key is the
 * record key, `datacontenttype` is the `content-type` header and every other attribute a
 * `ce_`-prefixed header, UTF-8.
 */
export const CE_HEADERS = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  contentType: 'content-type',
} as const;

/** Prefix of every CloudEvents attribute header but `content-type` (Kafka binding 3.2.3). */
export const ATTRIBUTE_PREFIX = 'ce_';

/** Orchestron's event id, when `ce_id` holds the sender's id of a forwarded CloudEvent. */
export const EVENT_ID_HEADER = 'orchestron-event-id';

export function toKafkaMessage(message: OutboundMessage): Message & { headers: Record<string, string> } {
  // Built by assignment into one object: building the attributes' object and spreading three
  // objects into a fresh one per message took 4-5% of the relay's CPU profile while draining
  // to Kafka, 1% now (docs/benchmarks.md). Extra headers first, then the event's own
  // attributes; the core CloudEvents attributes are authoritative.
  const headers: Record<string, string> = Object.assign({}, message.headers);
  const attributes = message.attributes ?? {};
  for (const name of Object.keys(attributes)) headers[ATTRIBUTE_PREFIX + name] = attributes[name] as string;
  if (message.cloudEventId !== undefined) headers[EVENT_ID_HEADER] = message.id;
  headers[CE_HEADERS.specversion] = '1.0';
  headers[CE_HEADERS.id] = message.cloudEventId ?? message.id;
  headers[CE_HEADERS.type] = message.type;
  headers[CE_HEADERS.source] = message.source;
  headers[CE_HEADERS.time] = cloudEventsTime(message.time);
  headers[CE_HEADERS.contentType] = message.contentType;
  // No record timestamp: the producer stamps the send time. The event time (which a sender
  // may set far in the past) would make retention delete the record early, and
  // `message.timestamp.difference.max.ms` refuse it; it travels in ce_time instead.
  return { key: message.key, value: message.payload, headers };
}

/** The parts of a consumed kafkajs message the mapping reads. */
export interface KafkaRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
}

export function fromKafkaMessage(record: KafkaRecord): ReceivedMessage {
  const headers = stringHeaders(record.headers ?? {});
  const ceTime = headers[CE_HEADERS.time];
  const time = ceTime === undefined ? null : new Date(ceTime);
  return {
    id: headers[EVENT_ID_HEADER] ?? headers[CE_HEADERS.id] ?? null,
    type: headers[CE_HEADERS.type] ?? null,
    source: headers[CE_HEADERS.source] ?? null,
    time: time && !Number.isNaN(time.getTime()) ? time : null,
    contentType: headers[CE_HEADERS.contentType] ?? null,
    key: record.key === null ? null : record.key.toString('utf8'),
    routingKey: null,
    headers,
    payload: record.value ?? Buffer.alloc(0),
  };
}

/** Kafka allows repeated header names; the last value wins, as with a map. */
function stringHeaders(headers: IHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = Buffer.isBuffer(last) ? last.toString('utf8') : last;
  }
  return out;
}
