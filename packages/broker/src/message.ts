/**
 * The broker-neutral envelope. Relay builds it from an outbox row; each adapter maps it
 * to its own wire format (Kafka record, AMQP message) and nothing else does.
 */
export interface OutboundMessage {
  /** Event id (UUIDv7). Every copy of an event carries it, so consumers can drop duplicates. */
  readonly id: string;
  /**
   * The CloudEvents `id` the sender gave an event that arrived as a CloudEvent: published as
   * the `id` attribute, so a forwarded CloudEvent keeps its identity (source + id). `id` then
   * travels beside it (AMQP `messageId`, Kafka header `orchestron-event-id`). Absent: the
   * CloudEvents id is `id`.
   */
  readonly cloudEventId?: string;
  readonly type: string;
  readonly source: string;
  /** When ingest received the event (or the sender's `time`, when it gave one). */
  readonly time: Date;
  /** Media type of `payload`, e.g. `application/json`. */
  readonly contentType: string;
  /** Kafka topic or RabbitMQ exchange. */
  readonly destination: string;
  /** RabbitMQ routing key; ignored by Kafka. */
  readonly routingKey: string;
  /** Kafka message key (partitioning); ignored by RabbitMQ. Null: the broker chooses. */
  readonly key: string | null;
  /** Extra string headers (request id, trace context, ...), added beside the CloudEvents ones. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The event's further CloudEvents attributes (`subject`, `dataschema`, extensions such as
   * `traceparent`), by attribute name. Each adapter writes them as its binding's attribute
   * headers (Kafka `ce_<name>`, AMQP `cloudEvents:<name>`); the core attributes above win
   * over any of the same name.
   */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly payload: Buffer;
}

/**
 * The CloudEvents extension attribute that marks a replayed copy of an event (a replay job
 * re-published it; see docs/admin.md, Replays); its value is the replay's id. It travels as
 * every attribute does: Kafka header `ce_orchestronreplay`, AMQP header
 * `cloudEvents:orchestronreplay`. The copy keeps its event id, so an inbox that drops
 * duplicates drops it too unless it looks at this marker.
 */
export const REPLAY_ATTRIBUTE = 'orchestronreplay';

/**
 * A message as a consumer received it, for `orchestron tail` and for tests. Fields are null
 * when the message lacks them (e.g. it was published by something other than Orchestron).
 */
export interface ReceivedMessage {
  /** Orchestron's event id (not the CloudEvents id of a forwarded CloudEvent: see headers). */
  readonly id: string | null;
  readonly type: string | null;
  readonly source: string | null;
  /** The event time (CloudEvents `time`), as published. */
  readonly time: Date | null;
  readonly contentType: string | null;
  /** The partition key: the Kafka message key, or the `cloudEvents:partitionkey` AMQP header. */
  readonly key: string | null;
  /** RabbitMQ routing key the message was published with; null on Kafka. */
  readonly routingKey: string | null;
  /** Every header as it arrived, CloudEvents binding headers included, values as strings. */
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Buffer;
}
