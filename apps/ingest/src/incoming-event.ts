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
  /** Further attributes to carry with the event (CloudEvents extensions, subject, ...). */
  attributes: Record<string, string>;
  /** JSON pointers, into the request body, of this event and of its data: for error reports. */
  pointer: string;
  dataPointer: string;
}
