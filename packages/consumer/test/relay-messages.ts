import { randomUUID } from 'node:crypto';
import type { OutboundMessage } from '@orchestron/broker';
import { uuidv7, type ClaimedRow } from '@orchestron/db';
import { toMessage } from '../../../apps/relay/src/to-message';

export interface EventSpec {
  readonly destination: string;
  readonly routingKey?: string;
  readonly type?: string;
  readonly key?: string | null;
  readonly data?: unknown;
  readonly eventId?: string;
  /** Stored CloudEvents attributes (`ce-<name>` headers), e.g. `{ subject: 'x', orchestronreplay: 'job-1' }`. */
  readonly attributes?: Record<string, string>;
}

/**
 * A message exactly as the relay publishes it: a claimed outbox row as ingest stores it, turned
 * into the broker-neutral message by the relay's own `toMessage`; the adapters' publishers then
 * apply their binding. Tests only: the consumer library itself knows nothing of the relay.
 */
export function relayMessage(spec: EventSpec): OutboundMessage {
  const eventId = spec.eventId ?? uuidv7();
  const headers: Record<string, string> = {
    'request-id': randomUUID(),
    traceparent: `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`,
    'api-key': 'test-key',
  };
  for (const [name, value] of Object.entries(spec.attributes ?? {})) headers[`ce-${name}`] = value;
  const row: ClaimedRow = {
    id: 1,
    eventId,
    broker: 'rabbitmq',
    destination: spec.destination,
    routingKey: spec.routingKey ?? spec.type ?? 'order.created',
    partitionKey: spec.key ?? null,
    attempts: 0,
    firstAttemptAt: null,
    type: spec.type ?? 'order.created',
    source: 'shop',
    payload: JSON.stringify(spec.data ?? { eventId }),
    encryptedPayload: null,
    headers,
    receivedAt: new Date(),
  };
  return toMessage(row, Buffer.from(row.payload as string));
}

/** The copy of a message that an operator's replay publishes: same event id, the replay marker added. */
export function replayOf(message: OutboundMessage, replay = 'replay-job-1'): OutboundMessage {
  return { ...message, attributes: { ...message.attributes, orchestronreplay: replay } };
}
