import { cloudEventsTime, type OutboundMessage, type ReceivedMessage } from '@orchestron/broker';
import { BasicProperties, BasicPublish, encodeMethod, encodeProperties, publishArguments } from './amqplib-internals';

/**
 * Mapping between the broker-neutral envelope and AMQP 0-9-1, following the CloudEvents
 * AMQP protocol binding (binary mode): the payload is the body, `datacontenttype` is the
 * content-type property, every other attribute is an application property (header)
 * prefixed `cloudEvents:`. The event id, type and time are also in the standard AMQP
 * properties so that tools which know nothing of CloudEvents (management UI, shovels) show
 * them; `messageId` is always Orchestron's event id, also when `cloudEvents:id` is the
 * sender's id of a forwarded CloudEvent.
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

/** Prefix of every CloudEvents attribute header but the content type (AMQP binding 3.1.3). */
export const ATTRIBUTE_PREFIX = 'cloudEvents:';

function attributeHeaders(attributes: OutboundMessage['attributes']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(attributes ?? {}).map(([name, value]) => [`${ATTRIBUTE_PREFIX}${name}`, value]),
  );
}

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
    /** Absent for an event time before 1970 (see amqpTimestamp). */
    readonly timestamp?: number;
    readonly contentType: string;
    readonly appId: string;
    readonly headers: Record<string, string>;
  };
}

export function toAmqpPublish(message: OutboundMessage): AmqpPublish {
  const headers: Record<string, string> = {
    // Extra headers first, then the event's own attributes: the core CloudEvents attributes
    // below are authoritative and cannot be overridden by a header of the same name.
    ...message.headers,
    ...attributeHeaders(message.attributes),
    [CE_HEADERS.specversion]: '1.0',
    [CE_HEADERS.id]: message.cloudEventId ?? message.id,
    [CE_HEADERS.type]: message.type,
    [CE_HEADERS.source]: message.source,
    [CE_HEADERS.time]: cloudEventsTime(message.time),
  };
  const timestamp = amqpTimestamp(message.time);
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
      ...(timestamp === null ? {} : { timestamp }),
      contentType: message.contentType,
      appId: APP_ID,
      headers,
    },
  };
}

/**
 * The AMQP `timestamp` property of an event time: whole seconds since 1970, which AMQP holds
 * unsigned. An event from before 1970 (a sender may give any RFC 3339 time from year 0000)
 * has none: amqplib cannot encode a negative one, and a clamped one would be a time the
 * sender never gave. The exact time is always in `cloudEvents:time`.
 */
export function amqpTimestamp(time: Date): number | null {
  const seconds = Math.floor(time.getTime() / 1000);
  return Number.isSafeInteger(seconds) && seconds >= 0 ? seconds : null;
}

/** AMQP short strings (exchange, routing key, message id, type, content type) hold at most this. */
const SHORT_STRING_BYTES = 255;
/** amqplib encodes a message's properties into a 64 KiB frame buffer; leave room for the rest. */
const HEADER_BYTES = 60_000;

/**
 * Why this message cannot be published at all, or null. Checked before handing it to amqplib:
 * amqplib throws on an over-long short string (and silently truncates over-large headers, which
 * makes the broker close the connection), so without this one such message would break the
 * session for every message and never reach the dead-letter queue.
 */
export function unpublishableReason(publish: AmqpPublish): string | null {
  const shortStrings: Record<string, string> = {
    exchange: publish.exchange,
    'routing key': publish.routingKey,
    'message id': publish.options.messageId,
    type: publish.options.type,
    'content type': publish.options.contentType,
  };
  for (const [name, value] of Object.entries(shortStrings)) {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > SHORT_STRING_BYTES) return `the ${name} is ${bytes} bytes; AMQP allows ${SHORT_STRING_BYTES}`;
  }
  let headerBytes = 0;
  for (const [name, value] of Object.entries(publish.options.headers)) {
    headerBytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8') + 6;
  }
  if (headerBytes > HEADER_BYTES) return `the headers take ${headerBytes} bytes; at most ${HEADER_BYTES} fit a frame`;
  return encodingProblem(publish);
}

/**
 * Runs amqplib's own encoding of the publish method and the message properties, as
 * `Channel.publish` will: whatever it would throw on there (a property out of range, a value
 * of the wrong type) is found here, before anything of the batch is sent, and becomes this
 * message's rejection. Thrown inside `publish`, it would leave the channel's confirms out of
 * step and cost the whole session.
 */
function encodingProblem(publish: AmqpPublish): string | null {
  try {
    const fields = publishArguments(publish.exchange, publish.routingKey, publish.options);
    encodeMethod(BasicPublish, 0, fields);
    encodeProperties(BasicProperties, 0, publish.content.length, fields);
    return null;
  } catch (error) {
    return `amqplib cannot encode it: ${error instanceof Error ? error.message : String(error)}`;
  }
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
