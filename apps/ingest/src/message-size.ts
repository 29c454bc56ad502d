import type { Destination } from '@orchestron/routing';
import { Problem } from '@orchestron/http';
import { mayHoldLargeNumbers, scanJsonText, type JsonTextFacts, type NumberLimits } from './written-size';

/** What bounds the size of what a request stores and the relays publish. */
export interface SizeLimits {
  /** api.max_payload_size: the body as received, and its JSON with every number written out. */
  maxPayloadBytes: number;
  numbers: NumberLimits;
  /** api.max_message_size.<broker>: the largest message a broker takes. */
  maxMessageBytes: Record<Destination['broker'], number>;
}

/** The defaults of api.max_message_size (docs/configuration.md). */
export const DEFAULT_MAX_MESSAGE_BYTES: SizeLimits['maxMessageBytes'] = {
  kafka: 960 * 1024,
  rabbitmq: 15 * 1024 * 1024,
};

/** What a message carries besides its payload and headers: the CloudEvents core attributes, the id. */
const MESSAGE_OVERHEAD_BYTES = 512;

/** An event about to be stored, as far as its published size goes. */
export interface SizedEvent {
  type: string;
  source: string;
  data: unknown;
  dataPath?: string[];
  headers: Record<string, string>;
  destinations: readonly Destination[];
}

/**
 * Refuses, before anything is stored, a request whose events would be stored or published
 * much larger than it was sent, or larger than a broker they route to takes
 * (docs/architecture.md, "What ingest refuses and why"):
 * - 422 for a JSON number with more digits or a larger exponent than api.max_number_digits /
 *   api.max_number_exponent (jsonb writes `1e131071` out as 131072 digits);
 * - 413 when the JSON, its numbers written out, exceeds api.max_payload_size;
 * - 413 when an event's message (payload as the relays publish it, plus its headers) would
 *   exceed api.max_message_size of a broker it routes to: the broker would refuse it and the
 *   relay dead-letter it; refusing it now tells the sender.
 * Costs nothing measurable for the usual request: the text is scanned only when it may hold a
 * long number or is big enough to come near a broker's limit.
 */
export function checkSizes(body: string | undefined, events: readonly SizedEvent[], limits: SizeLimits): void {
  let facts: JsonTextFacts | undefined;
  if (body !== undefined && mayHoldLargeNumbers(body, limits.numbers)) {
    facts = scanJsonText(body, limits.numbers);
    if (facts.growth > 0 && Buffer.byteLength(body) + facts.growth > limits.maxPayloadBytes) {
      throw new Problem(
        413,
        'payload-too-large',
        'Payload too large',
        `with its numbers written out in full (as stored and published) the body takes ${Buffer.byteLength(body) + facts.growth} bytes, over the limit of ${limits.maxPayloadBytes}`,
      );
    }
  }
  let smallestLimit = Infinity;
  for (const event of events) {
    for (const destination of event.destinations) {
      smallestLimit = Math.min(smallestLimit, limits.maxMessageBytes[destination.broker]);
    }
  }
  if (smallestLimit === Infinity) return;
  // Cheap upper bound first: UTF-8 takes at most 3 bytes per UTF-16 unit, and the published
  // text at most 1.5 times the sent JSON (a space after each `:` and `,`), plus the numbers' growth.
  const bodyBound = body === undefined ? 0 : body.length * 4.5 + Math.max(0, facts?.growth ?? 0) * 1.5;
  if (bodyBound + MESSAGE_OVERHEAD_BYTES * 8 < smallestLimit && events.every((e) => e.dataPath)) return;
  if (body !== undefined && !facts) facts = scanJsonText(body, limits.numbers);
  events.forEach((event, index) => {
    const payload = event.dataPath
      ? ((event.dataPath.length > 1 ? facts?.elementBytes[Number(event.dataPath[0])] : facts?.totalBytes) ?? 0)
      : opaqueBytes(event);
    const size = payload + headerBytes(event);
    for (const destination of event.destinations) {
      const limit = limits.maxMessageBytes[destination.broker];
      if (size > limit) {
        throw new Problem(
          413,
          'message-too-large',
          'Event too large for its broker',
          `event ${index} would be published to ${destination.broker} as about ${size} bytes, over its limit of ${limit} (api.max_message_size.${destination.broker})`,
        );
      }
    }
  });
}

/** The bytes a payload not stored from the body's text is published as. */
function opaqueBytes(event: SizedEvent): number {
  if (event.headers['payload-encoding'] === 'base64' && typeof event.data === 'string') {
    return Math.ceil((event.data.length * 3) / 4);
  }
  return Buffer.byteLength(JSON.stringify(event.data) ?? 'null');
}

function headerBytes(event: SizedEvent): number {
  let bytes = MESSAGE_OVERHEAD_BYTES + Buffer.byteLength(event.type) + Buffer.byteLength(event.source);
  for (const [name, value] of Object.entries(event.headers)) bytes += name.length + Buffer.byteLength(value) + 8;
  return bytes;
}
