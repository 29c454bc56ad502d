import { isJsonMediaType, isUtf8, type MediaType } from './media-type';

/**
 * A CloudEvent's data as ingest keeps it. JSON data (application/json or a +json type, in
 * UTF-8) is a JSON value, validated against the type's schema and stored as JSON. Anything
 * else is opaque bytes: held as their base64 text (the `data` the schema sees is that string,
 * so a type accepts opaque data only if its schema accepts a string) and published as the
 * bytes themselves.
 */
export type EventData = { data: unknown; payloadEncoding?: 'base64' };

/** Whether data of this media type is read as JSON. */
export function isJsonData(type: MediaType): boolean {
  return isJsonMediaType(type) && isUtf8(type);
}

export function opaqueData(bytes: Buffer): EventData {
  return { data: bytes.toString('base64'), payloadEncoding: 'base64' };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes of an RFC 4648 base64 text (padding required), or null when it is not one. */
export function decodeBase64(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}
