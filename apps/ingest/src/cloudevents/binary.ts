import type { IncomingHttpHeaders } from 'node:http';
import { readJsonBody } from '../body';
import type { IncomingEvent } from '../incoming-event';
import { Problem, type ProblemError } from '@orchestron/http';
import { checkAttributes } from './attributes';
import { toIncomingEvent } from './cloud-event';
import { isJsonData, opaqueData, type EventData } from './event-data';
import { decodeHeaderValue } from './header-value';
import { invalidCloudEvents } from './invalid';
import { isJsonMediaType, isUtf8, parseMediaType, type MediaType } from './media-type';

const ATTRIBUTE_HEADER_PREFIX = 'ce-';

function unsupported(detail: string): Problem {
  return new Problem(415, 'unsupported-media-type', 'Unsupported media type', detail);
}

/**
 * The data's media type: the Content-Type header (HTTP binding 3.1.1). Required when there is
 * data; JSON must be UTF-8. Any other well-formed media type is accepted, as opaque bytes.
 */
function dataMediaType(contentType: string | undefined, hasBody: boolean): MediaType | null {
  if (contentType === undefined || contentType.trim() === '') {
    if (hasBody)
      throw unsupported('a binary-mode CloudEvent with data needs a Content-Type: the media type of the data');
    return null;
  }
  const type = parseMediaType(contentType);
  if (!type) throw unsupported(`Content-Type ${contentType} is not a media type`);
  if (isJsonMediaType(type) && !isUtf8(type)) {
    throw unsupported(`charset ${type.parameters.charset} is not accepted for JSON data; use utf-8`);
  }
  return type;
}

/**
 * A binary-mode CloudEvent (HTTP binding 3.1): the `ce-*` headers are the attributes (values
 * percent-decoded), the body is the data and `Content-Type` its `datacontenttype`. JSON data
 * is parsed (400 when malformed), other media types are kept opaque; an empty body is an event
 * without data. 415 for a missing or unusable Content-Type, 400 listing every attribute
 * problem by header name. With JSON data, the decoded body comes back too (`text`): the
 * event's `dataPath` is then `[]` (the whole body), and its payload is stored from that text.
 */
export function readBinaryEvent(headers: IncomingHttpHeaders, body: Buffer): { event: IncomingEvent; text?: string } {
  const mediaType = dataMediaType(headers['content-type'], body.length > 0);
  const errors: ProblemError[] = [];
  const values = new Map<string, unknown>();
  // An attribute whose header does not decode is reported once, not again as missing.
  const undecodable = new Set<string>();
  for (const [name, raw] of Object.entries(headers)) {
    if (!name.startsWith(ATTRIBUTE_HEADER_PREFIX) || raw === undefined) continue;
    const attribute = name.slice(ATTRIBUTE_HEADER_PREFIX.length);
    if (attribute === 'datacontenttype') {
      errors.push({ header: name, message: 'must not be sent: the Content-Type header is the media type of the data' });
      continue;
    }
    const decoded = decodeHeaderValue(Array.isArray(raw) ? raw.join(', ') : raw);
    if (decoded.ok) {
      values.set(attribute, decoded.value);
    } else {
      undecodable.add(attribute);
      errors.push({ header: name, message: decoded.message });
    }
  }
  const attributes = checkAttributes(values, (attribute, message) => {
    if (!undecodable.has(attribute)) errors.push({ header: `${ATTRIBUTE_HEADER_PREFIX}${attribute}`, message });
  });
  if (!attributes || errors.length > 0) throw invalidCloudEvents(errors);

  let data: EventData;
  let json: { value: unknown; text: string } | undefined;
  if (mediaType === null || isJsonData(mediaType)) {
    json = body.length === 0 ? undefined : readJsonBody(body);
    data = { data: json ? json.value : null };
  } else {
    data = opaqueData(body);
  }
  const event = toIncomingEvent(attributes, data, headers['content-type']?.trim() || 'application/json', {
    pointer: '',
    dataPointer: '',
    attributesIn: 'headers',
    ...(json ? { dataPath: [] } : {}),
  });
  return json ? { event, text: json.text } : { event };
}
