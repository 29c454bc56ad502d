import type { EncryptedPayload } from './payload-cipher';

/** An outbox row with what relay needs to publish it. */
export interface ClaimedRow {
  id: number;
  eventId: string;
  broker: string;
  destination: string;
  routingKey: string;
  partitionKey: string | null;
  attempts: number;
  firstAttemptAt: Date | null;
  type: string;
  source: string;
  /** The stored payload as JSON text: published as is, never parsed and re-serialised. Null when encrypted. */
  payload: string | null;
  /** The payload when stored encrypted (encryption at rest); the relay decrypts it to publish. */
  encryptedPayload: EncryptedPayload | null;
  headers: Record<string, string>;
  receivedAt: Date;
  /** The replay that enqueued this row (published as the replay marker); absent or null: not a replay. */
  replayId?: string | null;
}

/**
 * The columns every claim statement selects, from `outbox o` joined with `events e`; use
 * with `toClaimedRow`, so all claim statements hand relay the same row.
 */
export const CLAIMED_COLUMNS = `o.id, o.event_id, o.broker, o.destination, o.routing_key, o.partition_key, o.attempts,
  o.first_attempt_at, e.type, e.source, e.payload::text as payload, e.payload_encrypted, e.encryption_key_id,
  e.headers, e.received_at, o.replay_id`;

export interface ClaimedColumns {
  id: number;
  event_id: string;
  broker: string;
  destination: string;
  routing_key: string;
  partition_key: string | null;
  attempts: number;
  first_attempt_at: Date | null;
  type: string;
  source: string;
  payload: string | null;
  payload_encrypted: Buffer | null;
  encryption_key_id: string | null;
  headers: Record<string, string>;
  received_at: Date;
  replay_id: string | null;
}

export function toClaimedRow(r: ClaimedColumns): ClaimedRow {
  return {
    id: r.id,
    eventId: r.event_id,
    broker: r.broker,
    destination: r.destination,
    routingKey: r.routing_key,
    partitionKey: r.partition_key,
    attempts: r.attempts,
    firstAttemptAt: r.first_attempt_at,
    type: r.type,
    source: r.source,
    payload: r.payload,
    encryptedPayload:
      r.payload_encrypted && r.encryption_key_id ? { keyId: r.encryption_key_id, data: r.payload_encrypted } : null,
    headers: r.headers,
    receivedAt: r.received_at,
    replayId: r.replay_id,
  };
}
