import type { IHeaders, KafkaMessage } from 'kafkajs';
import { toEvent, type OrchestronEvent } from './event';

/** CloudEvents Kafka binding (binary mode): attributes are `ce_`-prefixed headers. */
const ATTRIBUTE_PREFIX = 'ce_';
/** Orchestron's event id, beside `ce_id` when that holds a forwarded CloudEvent's own id. */
const EVENT_ID_HEADER = 'orchestron-event-id';

/** Decodes a Kafka record as the relay publishes it; throws UndecodableMessageError. */
export function decodeKafkaMessage<TData = unknown>(
  message: Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset'>,
  topic: string,
  partition: number,
): OrchestronEvent<TData> {
  const attributes: Record<string, string> = {};
  const headers: Record<string, string> = {};
  let contentType: string | null = null;
  for (const [name, value] of Object.entries(stringHeaders(message.headers ?? {}))) {
    if (name.startsWith(ATTRIBUTE_PREFIX)) attributes[name.slice(ATTRIBUTE_PREFIX.length)] = value;
    else if (name.toLowerCase() === 'content-type') contentType = value;
    else headers[name] = value;
  }
  const eventId = headers[EVENT_ID_HEADER] ?? null;
  delete headers[EVENT_ID_HEADER];
  return toEvent<TData>({
    attributes,
    contentType,
    eventId,
    key: message.key === null ? null : message.key.toString('utf8'),
    headers,
    body: message.value ?? Buffer.alloc(0),
    origin: { broker: 'kafka', topic, partition, offset: message.offset },
  });
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
