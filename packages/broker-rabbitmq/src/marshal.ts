import type { OutboundMessage, ReceivedMessage } from '@orchestron/broker';

/**
 * Mapping between the broker-neutral envelope and AMQP 0-9-1, following the CloudEvents
 * AMQP protocol binding (binary mode): the payload is the body, `datacontenttype` is the
 * content-type property, every other attribute is an application property (header)
 * prefixed `cloudEvents:`. The id, type and time are also in the standard AMQP properties
 * so that tools which know nothing of CloudEvents (management UI, shovels) show them.
 */
export const CE_HEADERS = {
  specversion: 'cloudEvents:specversion',
  id: 'cloudEvents:id',
  type: 'cloudEvents:type',
  source: 'cloudEvents:source',
  time: 'cloudEvents:time',
  /** CloudEvents partitioning extension: carries the key, which AMQP itself has no place for. */
  partitionkey: 'cloudEvents:partitionkey',
} as const;

export const APP_ID = 'orchestron';

/** The arguments of `ConfirmChannel.publish` for one message. */
export interface AmqpPublish {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: {
    readonly mandatory: true;
    readonly persistent: true;
    readonly messageId: string;
    readonly type: string;
    readonly timestamp: number;
    readonly contentType: string;
    readonly appId: string;
    readonly headers: Record<string, string>;
  };
}

export function toAmqpPublish(message: OutboundMessage): AmqpPublish {
  const headers: Record<string, string> = {
    // Extra headers first: the CloudEvents attributes below are authoritative and cannot be
    // overridden by a header of the same name.
    ...message.headers,
    [CE_HEADERS.specversion]: '1.0',
    [CE_HEADERS.id]: message.id,
    [CE_HEADERS.type]: message.type,
    [CE_HEADERS.source]: message.source,
    [CE_HEADERS.time]: message.time.toISOString(),
  };
  if (message.key !== null) headers[CE_HEADERS.partitionkey] = message.key;
  return {
    exchange: message.destination,
    routingKey: message.routingKey,
    content: message.payload,
    options: {
      // Unroutable messages come back as basic.return instead of vanishing silently.
      mandatory: true,
      persistent: true,
      messageId: message.id,
      type: message.type,
      // AMQP timestamps are whole seconds; the exact time is in cloudEvents:time.
      timestamp: Math.floor(message.time.getTime() / 1000),
      contentType: message.contentType,
      appId: APP_ID,
      headers,
    },
  };
}

/** The parts of an amqplib `ConsumeMessage` the mapping reads. */
export interface AmqpDelivery {
  readonly fields: { readonly routingKey: string };
  readonly properties: {
    readonly messageId?: unknown;
    readonly type?: unknown;
    readonly timestamp?: unknown;
    readonly contentType?: unknown;
    readonly headers?: Record<string, unknown> | undefined;
  };
  readonly content: Buffer;
}

export function fromAmqpDelivery(delivery: AmqpDelivery): ReceivedMessage {
  const headers = stringHeaders(delivery.properties.headers ?? {});
  const { properties } = delivery;
  return {
    id: stringOrNull(properties.messageId) ?? headers[CE_HEADERS.id] ?? null,
    type: stringOrNull(properties.type) ?? headers[CE_HEADERS.type] ?? null,
    source: headers[CE_HEADERS.source] ?? null,
    time: parseTime(headers[CE_HEADERS.time]) ?? secondsToDate(properties.timestamp),
    contentType: stringOrNull(properties.contentType),
    key: headers[CE_HEADERS.partitionkey] ?? null,
    routingKey: delivery.fields.routingKey,
    headers,
    payload: delivery.content,
  };
}

/**
 * AMQP header tables hold typed values; other publishers may send numbers, booleans, byte
 * arrays or nested tables. ReceivedMessage headers are strings, so everything is rendered.
 */
function stringHeaders(table: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(table)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') out[name] = value;
    else if (Buffer.isBuffer(value)) out[name] = value.toString('utf8');
    else if (value instanceof Date) out[name] = value.toISOString();
    else if (typeof value === 'object') out[name] = JSON.stringify(value);
    else out[name] = String(value);
  }
  return out;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function parseTime(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time;
}

function secondsToDate(value: unknown): Date | null {
  return typeof value === 'number' && Number.isFinite(value) ? new Date(value * 1000) : null;
}
