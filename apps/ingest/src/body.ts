import type { Request } from 'express';
import { Problem } from '@orchestron/http';

const JSON_MEDIA_TYPES = new Set(['application/json']);

/** 415 unless the request declares a JSON body in UTF-8. */
export function requireJsonContentType(req: Request): void {
  const header = req.get('content-type');
  if (!header) {
    throw new Problem(
      415,
      'unsupported-media-type',
      'Unsupported media type',
      'Content-Type application/json is required',
    );
  }
  const [mediaType, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (!JSON_MEDIA_TYPES.has(mediaType ?? '')) {
    throw new Problem(
      415,
      'unsupported-media-type',
      'Unsupported media type',
      `Content-Type ${mediaType} is not accepted; use application/json`,
    );
  }
  const charset = parameters
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new Problem(
      415,
      'unsupported-media-type',
      'Unsupported charset',
      `charset ${charset} is not accepted; use utf-8`,
    );
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Deepest nesting of objects and arrays accepted in a body. */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest object/array nesting of a parsed JSON value, counting no further than
 * `limit + 1` (so the walk's own recursion is bounded). Checked after JSON.parse, which V8
 * runs without recursion, so parsing a deeply nested body is safe: what is not is handing it
 * on to recursive code (validation, serialisation, Postgres's jsonb parser), where it would
 * exhaust a stack and fail as a 500 where a 400 is due. Walking the parsed value costs a
 * twentieth of scanning the text for brackets.
 */
export function jsonNestingDepth(value: unknown, limit: number, depth = 0): number {
  if (typeof value !== 'object' || value === null) return depth;
  let deepest = depth + 1;
  if (deepest > limit) return deepest;
  const children = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) {
    const childDepth = jsonNestingDepth(child, limit, depth + 1);
    if (childDepth > deepest) {
      deepest = childDepth;
      if (deepest > limit) return deepest;
    }
  }
  return deepest;
}

/** `String.prototype.isWellFormed` (ES2024; in Node since 20): no lone UTF-16 surrogate. */
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * The first key or string of a parsed JSON value holding a lone surrogate (a `\ud800`
 * escape without its pair), or null. JSON allows such escapes; Unicode text, and so Postgres's
 * jsonb, does not: without this check the insert failed and the sender got a 500.
 */
export function illFormedString(value: unknown): string | null {
  if (typeof value === 'string') return isWellFormed(value) ? null : value;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = illFormedString(item);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!isWellFormed(key)) return key;
    const found = illFormedString(item);
    if (found !== null) return found;
  }
  return null;
}

/** Decodes and parses the raw body; 400 for anything that is not well-formed UTF-8 JSON. */
export function parseJsonBody(raw: unknown): unknown {
  return readJsonBody(raw).value;
}

/** parseJsonBody, returning the decoded text too (payloads are stored from it: store-events). */
export function readJsonBody(raw: unknown): { value: unknown; text: string } {
  if (!Buffer.isBuffer(raw) || raw.length === 0) {
    throw new Problem(400, 'malformed-json', 'Malformed JSON', 'the request body is empty');
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new Problem(400, 'malformed-json', 'Malformed JSON', 'the request body is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw new Problem(400, 'malformed-json', 'Malformed JSON', (error as Error).message);
  }
  if (jsonNestingDepth(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new Problem(
      400,
      'malformed-json',
      'JSON nested too deeply',
      `objects and arrays may nest at most ${MAX_JSON_DEPTH} levels`,
    );
  }
  // Depth first: the walk below recurses as deep as the body nests.
  if (illFormedString(parsed) !== null) {
    throw new Problem(
      400,
      'malformed-json',
      'Invalid Unicode escape',
      'a string holds a lone surrogate escape (\\ud800-\\udfff without its pair), which is not Unicode text',
    );
  }
  return { value: parsed, text };
}
