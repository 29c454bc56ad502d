import { parseJsonBody } from '../body';
import type { IncomingEvent } from '../incoming-event';
import { Problem, type ProblemError } from '@orchestron/http';
import { checkAttributes } from './attributes';
import { toIncomingEvent } from './cloud-event';
import { decodeBase64, isJsonData, opaqueData, type EventData } from './event-data';
import { invalidCloudEvents } from './invalid';
import { isJsonMediaType, parseMediaType } from './media-type';

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One event of the CloudEvents JSON format (a structured-mode body, or one element of a
 * batch) at `path` in the body (`[]`, or `['3']` in a batch). Problems are added to `errors`,
 * each with its JSON pointer; returns null when there was one.
 *
 * Data (JSON format 3.1): `data` is a JSON value when `datacontenttype` is JSON or absent,
 * else a string holding the data as text; `data_base64` holds bytes, which are parsed when
 * `datacontenttype` says they are UTF-8 JSON and otherwise kept opaque. Both at once is an
 * error; neither is an event without data (JSON null, or no bytes for a non-JSON type). JSON
 * `data` gets its path in the body (`dataPath`): it is stored from the body's own text.
 */
export function parseStructuredEvent(
  item: unknown,
  path: readonly string[],
  errors: ProblemError[],
): IncomingEvent | null {
  const pointer = path.map((token) => `/${escapePointer(token)}`).join('');
  if (!isObject(item)) {
    errors.push({ pointer, message: 'must be a JSON object: one CloudEvent in the JSON event format' });
    return null;
  }
  const errorsBefore = errors.length;
  const at = (member: string): string => `${pointer}/${escapePointer(member)}`;
  const values = new Map<string, unknown>();
  for (const [name, value] of Object.entries(item)) {
    // A null attribute is an unset one (JSON format 2.2).
    if (name !== 'data' && name !== 'data_base64' && value !== null) values.set(name, value);
  }
  const attributes = checkAttributes(values, (attribute, message) => errors.push({ pointer: at(attribute), message }));

  const hasData = Object.hasOwn(item, 'data');
  const base64 = item.data_base64 ?? null;
  if (hasData && base64 !== null) {
    errors.push({ pointer: at('data_base64'), message: 'must not be present together with data' });
  }
  const declared = attributes?.datacontenttype ?? null;
  const mediaType = parseMediaType(declared ?? 'application/json');
  if (!attributes || !mediaType || errors.length > errorsBefore) return null;

  let data: EventData;
  let dataContentType = declared ?? 'application/json';
  let dataInString = false;
  let dataPath: string[] | undefined;
  if (base64 !== null) {
    const bytes = typeof base64 === 'string' ? decodeBase64(base64) : null;
    if (bytes === null) {
      errors.push({ pointer: at('data_base64'), message: 'must be a base64 string (RFC 4648, padded)' });
      return null;
    }
    if (declared !== null && isJsonData(mediaType)) {
      try {
        data = { data: bytes.length === 0 ? null : parseJsonBody(bytes) };
        dataInString = true;
      } catch (error) {
        errors.push({ pointer: at('data_base64'), message: `does not hold valid JSON: ${(error as Error).message}` });
        return null;
      }
    } else {
      data = opaqueData(bytes);
      dataContentType = declared ?? 'application/octet-stream';
    }
  } else if (isJsonMediaType(mediaType)) {
    data = { data: hasData ? item.data : null };
    if (hasData) dataPath = [...path, 'data'];
  } else if (!hasData) {
    data = opaqueData(Buffer.alloc(0));
  } else if (typeof item.data === 'string') {
    data = opaqueData(Buffer.from(item.data, 'utf8'));
  } else {
    errors.push({
      pointer: at('data'),
      message: `must be a string: datacontenttype ${declared} is not JSON (send bytes as data_base64)`,
    });
    return null;
  }
  return toIncomingEvent(attributes, data, dataContentType, {
    pointer,
    dataPointer: base64 !== null ? at('data_base64') : at('data'),
    attributesIn: 'body',
    dataInString,
    ...(dataPath ? { dataPath } : {}),
  });
}

/** A structured-mode body (`application/cloudevents+json`): one CloudEvent. 400 listing every problem. */
export function parseStructured(body: unknown): IncomingEvent {
  if (Array.isArray(body)) {
    throw invalidCloudEvents([
      { pointer: '', message: 'must be one CloudEvent; send a JSON array as application/cloudevents-batch+json' },
    ]);
  }
  const errors: ProblemError[] = [];
  const event = parseStructuredEvent(body, [], errors);
  if (!event) throw invalidCloudEvents(errors);
  return event;
}

/**
 * A batch-mode body (`application/cloudevents-batch+json`): a non-empty JSON array of at most
 * `maxBatch` CloudEvents, all valid (400 listing every problem of every event) or none taken.
 */
export function parseBatch(body: unknown, maxBatch: number): IncomingEvent[] {
  if (!Array.isArray(body)) {
    throw invalidCloudEvents([{ pointer: '', message: 'must be a JSON array of CloudEvents' }], true);
  }
  if (body.length === 0) {
    throw new Problem(400, 'empty-batch', 'Empty batch', 'a batch must hold at least one event');
  }
  if (body.length > maxBatch) {
    throw new Problem(413, 'batch-too-large', 'Batch too large', `a batch may hold at most ${maxBatch} events`);
  }
  const errors: ProblemError[] = [];
  const events = body.map((item, index) => parseStructuredEvent(item, [String(index)], errors));
  if (errors.length > 0) throw invalidCloudEvents(errors, true);
  return events as IncomingEvent[];
}
