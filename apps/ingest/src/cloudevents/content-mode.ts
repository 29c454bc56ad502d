import { Problem } from '@orchestron/http';
import { isUtf8, parseMediaType } from './media-type';

/** How a POST /events request carries its events. */
export type ContentMode = 'native' | 'structured' | 'batch' | 'binary';

const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';

function unsupported(detail: string): Problem {
  return new Problem(415, 'unsupported-media-type', 'Unsupported media type', detail);
}

/**
 * The content mode, from the headers alone (so a 415 comes before the body is read), as the
 * CloudEvents HTTP binding (section 3) tells them apart: a Content-Type of the CloudEvents
 * JSON format is structured mode (its batch type, batch mode), whatever other headers say;
 * otherwise a `ce-specversion` header makes it binary mode; anything else is the native
 * envelope. Only the JSON event formats, in UTF-8, are accepted.
 */
export function contentModeOf(header: (name: string) => string | undefined): ContentMode {
  const contentType = header('content-type');
  const type = contentType === undefined ? null : parseMediaType(contentType);
  if (type?.essence.startsWith('application/cloudevents')) {
    if (type.essence !== STRUCTURED && type.essence !== BATCH) {
      throw unsupported(`event format ${type.essence} is not accepted; use ${STRUCTURED} or ${BATCH}`);
    }
    if (!isUtf8(type)) throw unsupported(`charset ${type.parameters.charset} is not accepted; use utf-8`);
    return type.essence === BATCH ? 'batch' : 'structured';
  }
  return header('ce-specversion') !== undefined ? 'binary' : 'native';
}
