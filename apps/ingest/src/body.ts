import type { Request } from 'express';
import { Problem } from './problem';

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
 * The deepest object/array nesting in a JSON text, found in one pass that skips strings.
 * Checked before JSON.parse: a deeply nested body would otherwise pass parsing and then
 * exhaust the stack in validation or serialisation (a 500 where a 400 is due).
 */
export function jsonNestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/** Decodes and parses the raw body; 400 for anything that is not well-formed UTF-8 JSON. */
export function parseJsonBody(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw) || raw.length === 0) {
    throw new Problem(400, 'malformed-json', 'Malformed JSON', 'the request body is empty');
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new Problem(400, 'malformed-json', 'Malformed JSON', 'the request body is not valid UTF-8');
  }
  if (jsonNestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new Problem(
      400,
      'malformed-json',
      'JSON nested too deeply',
      `objects and arrays may nest at most ${MAX_JSON_DEPTH} levels`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Problem(400, 'malformed-json', 'Malformed JSON', (error as Error).message);
  }
}
