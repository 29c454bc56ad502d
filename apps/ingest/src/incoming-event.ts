/**
 * One event as a sender described it, whatever the wire format (native envelope,
 * CloudEvents structured / binary / batch, or a raw third-party webhook), after its format
 * was checked and before schema validation, routing and storage.
 */
export interface IncomingEvent {
  type: string;
  data: unknown;
  /** The sender's id for this event: its idempotency key within its source. */
  idempotencyKey: string | null;
  /** The source the sender named; null when the request did not name one. */
  source: string | null;
  /** The sender's event time (RFC 3339), if given. */
  time: string | null;
  schemaVersion: number | null;
  partitionKey: string | null;
  /** Media type of `data` as published (CloudEvents `datacontenttype`). */
  dataContentType: string;
  /**
   * The CloudEvents attributes of an event that came as a CloudEvent, beyond type, source,
   * time and content type, by attribute name: its `id`, `subject`, `dataschema` and the
   * extensions (canonical strings). Stored as `ce-<name>` headers and published as the
   * binding's attribute headers (Kafka `ce_<name>`, AMQP `cloudEvents:<name>`).
   */
  attributes: Record<string, string>;
  /**
   * Set when `data` is opaque bytes (a non-JSON media type), held as their base64 text: the
   * schema sees that string, and relay publishes the decoded bytes.
   */
  payloadEncoding?: 'base64';
  /**
   * Where `data` is, unchanged, in the request's JSON body (a JSON path: native envelopes,
   * CloudEvents with JSON `data` in structured and batch mode; `[]`, the whole body, for JSON
   * data in binary mode and for webhooks): the payload is then stored from the body's own text
   * instead of being serialised again.
   */
  dataPath?: string[];
  /** JSON pointers, into the request body, of this event and of its data: for error reports. */
  pointer: string;
  dataPointer: string;
  /**
   * Where errors about the attributes (type, source, time) are reported: `body` (default) by
   * JSON pointer below `pointer`, `headers` (CloudEvents binary mode) by `ce-<name>` header.
   */
  attributesIn?: 'body' | 'headers';
  /**
   * Set when the data was decoded from one JSON string of the body (CloudEvents `data_base64`
   * of a JSON media type): a violation inside it is reported at `dataPointer`, with its path
   * in the message, since no JSON pointer reaches into a string.
   */
  dataInString?: boolean;
}
