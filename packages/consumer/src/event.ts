/**
 * One Orchestron event as a consumer sees it, whichever broker and CloudEvents binding it came
 * through (Kafka binary mode: `ce_*` headers; AMQP: `cloudEvents:*` application properties).
 */
export interface OrchestronEvent<TData = unknown> {
  /** CloudEvents `id`: the sender's id of a forwarded CloudEvent, else Orchestron's event id. */
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly specversion: string;
  /** CloudEvents `time` (the sender's time, or when Orchestron received the event). */
  readonly time: Date | null;
  readonly subject: string | null;
  readonly dataschema: string | null;
  /** The media type of the data (`content-type`), e.g. `application/json`. */
  readonly datacontenttype: string | null;
  /**
   * The data: parsed JSON for a JSON media type (`application/json`, `*+json`, or none given;
   * `null` for an empty body), else the bytes as a Buffer.
   */
  readonly data: TData;
  /** The data exactly as it arrived. */
  readonly dataBytes: Buffer;
  /** Every other CloudEvents attribute (extensions such as `traceparent`), as strings. */
  readonly extensions: Readonly<Record<string, string>>;
  /**
   * Orchestron's event id (UUIDv7, made at ingest): the same on every copy of the event,
   * redeliveries and replays included. The inbox deduplicates on it.
   */
  readonly eventId: string;
  /** The replay marker (CloudEvents extension `orchestronreplay`) when the message is a replay. */
  readonly replay: string | null;
  /** The partition key (Kafka record key, AMQP `cloudEvents:partitionkey`), or null. */
  readonly key: string | null;
  /** Transport headers that are not CloudEvents attributes (`x-request-id`, `traceparent`, ...). */
  readonly headers: Readonly<Record<string, string>>;
  /** Where the message was read. */
  readonly origin: KafkaOrigin | RabbitMqOrigin;
}

export interface KafkaOrigin {
  readonly broker: 'kafka';
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface RabbitMqOrigin {
  readonly broker: 'rabbitmq';
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
  /** The broker has delivered this message before (to this or another consumer). */
  readonly redelivered: boolean;
}

/** The name of the replay marker extension. */
export const REPLAY_EXTENSION = 'orchestronreplay';

/** A message that is not an Orchestron event (a required attribute is missing, the JSON is broken). */
export class UndecodableMessageError extends Error {
  override readonly name = 'UndecodableMessageError';
}

/** What a binding decoder extracted; `toEvent` turns it into the event. */
export interface DecodedParts {
  /** CloudEvents attributes by name, without the binding's prefix (content type excluded). */
  readonly attributes: Record<string, string>;
  readonly contentType: string | null;
  readonly eventId: string | null;
  readonly key: string | null;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly origin: KafkaOrigin | RabbitMqOrigin;
}

/** Attributes with a field of their own (`partitionkey` is `key`). */
const CORE = new Set(['id', 'source', 'type', 'specversion', 'time', 'subject', 'dataschema', 'partitionkey']);

/** JSON media types: `application/json`, `text/json`, anything `+json`, parameters ignored. */
export function isJsonMediaType(contentType: string | null): boolean {
  if (contentType === null || contentType === '') return true;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

export function toEvent<TData>(parts: DecodedParts): OrchestronEvent<TData> {
  const { attributes } = parts;
  const missing = ['id', 'source', 'type', 'specversion'].filter((name) => !attributes[name]);
  if (missing.length > 0) {
    throw new UndecodableMessageError(`not a CloudEvent: missing ${missing.join(', ')}`);
  }
  let data: unknown = parts.body;
  if (isJsonMediaType(parts.contentType)) {
    try {
      data = parts.body.length === 0 ? null : JSON.parse(parts.body.toString('utf8'));
    } catch (error) {
      throw new UndecodableMessageError(`data is not valid JSON: ${(error as Error).message}`);
    }
  }
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) if (!CORE.has(name)) extensions[name] = value;
  const time = attributes.time === undefined ? null : new Date(attributes.time);
  return {
    id: attributes.id as string,
    source: attributes.source as string,
    type: attributes.type as string,
    specversion: attributes.specversion as string,
    time: time && !Number.isNaN(time.getTime()) ? time : null,
    subject: attributes.subject ?? null,
    dataschema: attributes.dataschema ?? null,
    datacontenttype: parts.contentType,
    data: data as TData,
    dataBytes: parts.body,
    extensions,
    eventId: parts.eventId ?? (attributes.id as string),
    replay: attributes[REPLAY_EXTENSION] ?? null,
    key: parts.key ?? attributes.partitionkey ?? null,
    headers: parts.headers,
    origin: parts.origin,
  };
}

/** Every CloudEvents attribute of the event but the content type, by name (for re-publishing it). */
export function attributesOf(event: OrchestronEvent): Record<string, string> {
  const attributes: Record<string, string> = { ...event.extensions };
  if (event.subject !== null) attributes.subject = event.subject;
  if (event.dataschema !== null) attributes.dataschema = event.dataschema;
  if (event.time !== null) attributes.time = event.time.toISOString();
  if (event.key !== null) attributes.partitionkey = event.key;
  attributes.specversion = event.specversion;
  attributes.id = event.id;
  attributes.source = event.source;
  attributes.type = event.type;
  return attributes;
}
