/** A parsed `Content-Type` / `datacontenttype` value (RFC 9110 media type). */
export interface MediaType {
  /** `type/subtype`, lower case: what decides how the data is read. */
  readonly essence: string;
  /** Parameter values by lower-case name, unquoted. */
  readonly parameters: Readonly<Record<string, string>>;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[^"\\\\]|\\\\.)*"';
const MEDIA_TYPE = new RegExp(`^(${TOKEN})/(${TOKEN})((?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*)[ \\t]*$`);
const PARAMETER = new RegExp(`;[ \\t]*(${TOKEN})=(${TOKEN}|${QUOTED})`, 'g');

/** The media type, or null when the value is not one (e.g. `json`, `text/`). */
export function parseMediaType(value: string): MediaType | null {
  const match = MEDIA_TYPE.exec(value.trim());
  if (!match) return null;
  const parameters: Record<string, string> = {};
  for (const [, name, raw] of (match[3] ?? '').matchAll(PARAMETER)) {
    const unquoted = (raw as string).startsWith('"') ? (raw as string).slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    parameters[(name as string).toLowerCase()] = unquoted as string;
  }
  return { essence: `${match[1]}/${match[2]}`.toLowerCase(), parameters };
}

/** JSON data: `application/json` and any structured `+json` suffix type (RFC 6839). */
export function isJsonMediaType(type: MediaType): boolean {
  return type.essence === 'application/json' || type.essence.endsWith('+json');
}

/** No charset, or UTF-8: the only encoding JSON is read in (RFC 8259). */
export function isUtf8(type: MediaType): boolean {
  const charset = type.parameters.charset?.toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}
