import type { ConsumeMessage } from 'amqplib';
import { toEvent, type OrchestronEvent } from './event';

/**
 * CloudEvents AMQP binding: attributes are application properties prefixed `cloudEvents:`
 * (`cloudEvents_` is accepted too, the spelling JMS-friendly publishers use); the content type
 * is the message's content-type property. Orchestron's event id is the `messageId` property.
 */
const ATTRIBUTE_PREFIXES = ['cloudEvents:', 'cloudEvents_'];

/** Decodes an AMQP delivery as the relay publishes it; throws UndecodableMessageError. */
export function decodeAmqpMessage<TData = unknown>(
  delivery: Pick<ConsumeMessage, 'fields' | 'properties' | 'content'>,
  queue: string,
): OrchestronEvent<TData> {
  const attributes: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.properties.headers ?? {})) {
    const text = headerText(value);
    if (text === null) continue;
    const prefix = ATTRIBUTE_PREFIXES.find((p) => name.startsWith(p));
    if (prefix) attributes[name.slice(prefix.length)] = text;
    else headers[name] = text;
  }
  const { messageId, contentType } = delivery.properties as { messageId?: unknown; contentType?: unknown };
  return toEvent<TData>({
    attributes,
    contentType: typeof contentType === 'string' && contentType !== '' ? contentType : null,
    eventId: typeof messageId === 'string' && messageId !== '' ? messageId : null,
    key: attributes.partitionkey ?? null,
    headers,
    body: delivery.content,
    origin: {
      broker: 'rabbitmq',
      queue,
      exchange: delivery.fields.exchange,
      routingKey: delivery.fields.routingKey,
      redelivered: delivery.fields.redelivered,
    },
  });
}

/** AMQP tables hold typed values; other publishers may send numbers, booleans or bytes. */
function headerText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
