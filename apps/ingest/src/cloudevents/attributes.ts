import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { EVENT_TYPE_PATTERN } from '@orchestron/schemas';
import { parseMediaType } from './media-type';

/** The only CloudEvents version accepted. */
export const SPEC_VERSION = '1.0';

/** A CloudEvent's context attributes, checked; extension values as canonical strings. */
export interface CloudEventAttributes {
  id: string;
  source: string;
  type: string;
  time: string | null;
  datacontenttype: string | null;
  dataschema: string | null;
  subject: string | null;
  /** Extension attributes by name (`partitionkey` included). */
  extensions: Record<string, string>;
}

/** Reports what is wrong with one attribute; the caller knows where the sender put it. */
export type ReportAttributeProblem = (attribute: string, message: string) => void;

const CORE_ATTRIBUTES = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'datacontenttype',
  'dataschema',
  'subject',
]);

/**
 * Extension names: lower-case letters and digits (the spec's MUST), at most 20 of them (the
 * spec's SHOULD, enforced here because the name becomes a header name on every broker).
 */
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;

/**
 * `source` is a URI-reference: "https://github.com/org/repo", "/sensors/1", "urn:x:y".
 * Checked as the RFC 3986 character set (no spaces, quotes, <>, \ ^ ` { | }), at most 200
 * characters like a native source: it keys idempotency and API-key scopes match on it.
 */
const SOURCE = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]{1,200}$/;
const MAX_ID_LENGTH = 200;
const MAX_PARTITION_KEY_LENGTH = 256;
const INT32 = { min: -2147483648, max: 2147483647 };

/**
 * Characters a CloudEvents String must not contain: controls (Cc: U+0000-U+001F and
 * U+007F-U+009F), lone surrogates, noncharacters.
 */
const FORBIDDEN_CHARACTERS = /\p{Cc}|\p{Cs}|\p{Noncharacter_Code_Point}/u;

const ajv = new Ajv({ strict: true });
addFormats(ajv, ['date-time', 'uri']);
const isTimestamp = ajv.compile({ type: 'string', format: 'date-time' });
const isUri = ajv.compile({ type: 'string', format: 'uri' });

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Checks a CloudEvent's attributes by name (`data` and `data_base64` already taken out; null
 * values, which mean "unset", too) and reports every problem. Returns the attributes when
 * there was none, else null.
 */
/** Longest attribute value accepted; together they must fit the brokers' header limits. */
const MAX_ATTRIBUTE_LENGTH = 4_096;
const MAX_EXTENSIONS = 10;

export function checkAttributes(
  values: ReadonlyMap<string, unknown>,
  report: ReportAttributeProblem,
): CloudEventAttributes | null {
  let valid = true;
  const fail = (attribute: string, message: string): null => {
    valid = false;
    report(attribute, message);
    return null;
  };
  const text = (name: string, required: boolean): string | null => {
    const value = values.get(name);
    if (value === undefined) return required ? fail(name, 'is required') : null;
    if (typeof value !== 'string') return fail(name, `must be a string, not ${describe(value)}`);
    if (value === '') return fail(name, 'must not be empty');
    if (FORBIDDEN_CHARACTERS.test(value)) return fail(name, 'must not contain control characters');
    // Attributes travel as broker message headers, whose room is limited (an AMQP frame).
    if (value.length > MAX_ATTRIBUTE_LENGTH) return fail(name, `must be at most ${MAX_ATTRIBUTE_LENGTH} characters`);
    return value;
  };

  const specversion = text('specversion', true);
  if (specversion !== null && specversion !== SPEC_VERSION) {
    fail('specversion', `must be "${SPEC_VERSION}" (CloudEvents 1.0), not "${specversion}"`);
  }
  const id = text('id', true);
  if (id !== null && id.length > MAX_ID_LENGTH) fail('id', `must be at most ${MAX_ID_LENGTH} characters`);
  const source = text('source', true);
  if (source !== null && !SOURCE.test(source)) {
    fail('source', 'must be a URI-reference of at most 200 characters (RFC 3986 characters, no spaces)');
  }
  const type = text('type', true);
  if (type !== null && !EVENT_TYPE_PATTERN.test(type)) {
    fail('type', 'must be 1-200 letters, digits and . _ - : / starting with a letter or digit (it names the schema)');
  }
  const time = text('time', false);
  if (time !== null && !isTimestamp(time)) fail('time', 'must be an RFC 3339 timestamp, e.g. 2026-11-26T10:00:00Z');
  const datacontenttype = text('datacontenttype', false);
  if (datacontenttype !== null && datacontenttype.length > 255) {
    fail('datacontenttype', 'must be at most 255 characters (it becomes the AMQP content type)');
  } else if (datacontenttype !== null && parseMediaType(datacontenttype) === null) {
    fail('datacontenttype', 'must be a media type (RFC 2046), e.g. application/json');
  }
  const dataschema = text('dataschema', false);
  if (dataschema !== null && !isUri(dataschema)) fail('dataschema', 'must be an absolute URI');
  const subject = text('subject', false);

  const extensions: Record<string, string> = {};
  for (const [name, value] of values) {
    if (CORE_ATTRIBUTES.has(name)) continue;
    if (name === 'data') {
      fail(name, 'is reserved for the event data');
    } else if (!EXTENSION_NAME.test(name)) {
      fail(name, 'is not a valid extension attribute name: use 1-20 lower-case letters a-z or digits');
    } else {
      const canonical = canonicalExtensionValue(value);
      if ('error' in canonical) fail(name, canonical.error);
      else if (canonical.value.length > MAX_ATTRIBUTE_LENGTH)
        fail(name, `must be at most ${MAX_ATTRIBUTE_LENGTH} characters`);
      else extensions[name] = canonical.value;
    }
  }
  const partitionKey = extensions.partitionkey;
  if (partitionKey !== undefined && (partitionKey === '' || partitionKey.length > MAX_PARTITION_KEY_LENGTH)) {
    fail('partitionkey', `must be 1 to ${MAX_PARTITION_KEY_LENGTH} characters`);
  }

  if (Object.keys(extensions).length > MAX_EXTENSIONS)
    fail('extensions', `at most ${MAX_EXTENSIONS} extension attributes`);

  if (!valid) return null;
  return {
    id: id as string,
    source: source as string,
    type: type as string,
    time,
    datacontenttype,
    dataschema,
    subject,
    extensions,
  };
}

/**
 * An extension value in its canonical string form (how every binary binding carries it):
 * strings as they are, integers in decimal, booleans as "true"/"false". The JSON type of a
 * structured event's extension is not kept beyond this point.
 */
function canonicalExtensionValue(value: unknown): { value: string } | { error: string } {
  if (typeof value === 'string') {
    return FORBIDDEN_CHARACTERS.test(value) ? { error: 'must not contain control characters' } : { value };
  }
  if (typeof value === 'boolean') return { value: String(value) };
  if (typeof value === 'number' && Number.isInteger(value)) {
    return value >= INT32.min && value <= INT32.max
      ? { value: String(value) }
      : { error: `must be an integer from ${INT32.min} to ${INT32.max}` };
  }
  return { error: `must be a string, an integer or a boolean, not ${describe(value)}` };
}
