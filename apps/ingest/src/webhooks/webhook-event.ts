import { EVENT_TYPE_PATTERN } from '@orchestron/schemas';
import type { ValueLocation } from '@orchestron/config';
import type { IncomingEvent } from '../incoming-event';
import { Problem } from '@orchestron/http';
import { resolvePointer } from '@orchestron/routing';
import type { WebhookSource } from './sources';
import type { SignedDelivery } from './verifier';

const MAX_DELIVERY_ID_LENGTH = 200;

function describeLocation(location: ValueLocation): string {
  return 'header' in location ? `header ${location.header}` : `body at ${location.pointer}`;
}

function read(location: ValueLocation, delivery: SignedDelivery, body: unknown): unknown {
  return 'header' in location ? delivery.header(location.header) : resolvePointer(body, location.pointer);
}

function invalid(detail: string): Problem {
  return new Problem(400, 'invalid-webhook', 'Invalid webhook delivery', detail);
}

/**
 * The event of a verified delivery: the whole JSON body is its data, its type and delivery
 * id (the idempotency key, so a re-delivery is stored once) come from where the source
 * says. 400 when either is missing or malformed.
 */
export function webhookEvent(source: WebhookSource, delivery: SignedDelivery, body: unknown): IncomingEvent {
  const type = read(source.typeFrom, delivery, body);
  if (typeof type !== 'string' || type === '') {
    throw invalid(`the event type is missing (expected a string in the ${describeLocation(source.typeFrom)})`);
  }
  if (!EVENT_TYPE_PATTERN.test(type)) {
    throw invalid(`the event type in the ${describeLocation(source.typeFrom)} is not a valid event type name`);
  }
  let idempotencyKey: string | null = null;
  if (source.idFrom) {
    const id = read(source.idFrom, delivery, body);
    const text = typeof id === 'string' ? id : Number.isSafeInteger(id) ? String(id) : '';
    if (text === '' || text.length > MAX_DELIVERY_ID_LENGTH) {
      throw invalid(
        `the delivery id is missing (expected a string of at most ${MAX_DELIVERY_ID_LENGTH} characters in the ${describeLocation(source.idFrom)})`,
      );
    }
    idempotencyKey = text;
  }
  return {
    type,
    data: body,
    idempotencyKey,
    source: source.name,
    time: null,
    schemaVersion: null,
    partitionKey: null,
    dataContentType: 'application/json',
    attributes: {},
    // The whole body: stored from its own text (an empty JSON path), not serialised again.
    dataPath: [],
    pointer: '',
    dataPointer: '',
  };
}
