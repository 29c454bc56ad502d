import { checkRoutingRules } from '@orchestron/routing';
import convict from 'convict';

/** "5s", "250ms", "1m30s", "2h" or a number of milliseconds -> milliseconds. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value !== 'string') throw new Error('must be a duration such as "5s", "250ms" or "1m"');
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let rest = text;
  const part = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/;
  while (rest.length > 0) {
    const match = part.exec(rest);
    if (!match) throw new Error(`"${value}" is not a duration such as "5s", "250ms" or "1m30s"`);
    total += Number(match[1]) * (unitMs[match[2] as string] as number);
    rest = rest.slice(match[0].length);
  }
  if (text.length === 0) throw new Error('must be a duration such as "5s"');
  return Math.round(total);
}

/** "1MB", "512kb", "100b" or a number of bytes -> bytes (binary multiples, as body parsers count). */
export function parseByteSize(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value !== 'string') throw new Error('must be a size such as "1MB" or "512KB"');
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!match) throw new Error(`"${value}" is not a size such as "1MB" or "512KB"`);
  const unit = (match[2] ?? 'b').toLowerCase();
  const multiplier: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
  const bytes = Math.floor(Number(match[1]) * (multiplier[unit] as number));
  if (bytes <= 0) throw new Error('must be larger than zero');
  return bytes;
}

/** "90%" (a share of V8's heap limit) or a size such as "400MB" -> the resolved threshold. */
export function parseHeapThreshold(value: unknown): { fraction: number } | { bytes: number } {
  if (typeof value === 'object' && value !== null && ('fraction' in value || 'bytes' in value)) {
    return value as { fraction: number } | { bytes: number };
  }
  if (typeof value === 'string' && value.trim().endsWith('%')) {
    const percent = Number(value.trim().slice(0, -1));
    if (!Number.isFinite(percent) || percent <= 0 || percent > 100) {
      throw new Error(`"${value}" is not a percentage between 0% and 100%`);
    }
    return { fraction: percent / 100 };
  }
  try {
    return { bytes: parseByteSize(value) };
  } catch {
    throw new Error(`${JSON.stringify(value)} is not a share of the heap limit ("90%") or a size ("400MB")`);
  }
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** Go-style listen address: ":8080" (all interfaces), "127.0.0.1:8080", "[::1]:8080". */
export function parseListenAddress(value: unknown): ListenAddress {
  if (typeof value !== 'string') throw new Error('must be an address such as ":8080" or "127.0.0.1:8080"');
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65_535) {
    throw new Error(`"${value}" is not an address such as ":8080" or "127.0.0.1:8080"`);
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** Coerces when it can; otherwise leaves the value for validation to report with the others. */
function lenient(parse: (value: unknown) => number, value: unknown): unknown {
  try {
    return parse(value);
  } catch {
    return value;
  }
}

/** Lists and maps may be given as JSON text in environment variables. */
function jsonFromText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

let registered = false;

/** Adds the formats above to convict; called once before a schema is built. */
export function registerFormats(): void {
  if (registered) return;
  registered = true;
  convict.addFormat({
    name: 'duration-ms',
    validate: (value: unknown) => {
      parseDuration(value);
    },
    coerce: (value: unknown) => lenient(parseDuration, value),
  });
  convict.addFormat({
    name: 'byte-size',
    validate: (value: unknown) => {
      parseByteSize(value);
    },
    coerce: (value: unknown) => lenient(parseByteSize, value),
  });
  convict.addFormat({
    name: 'heap-threshold',
    validate: (value: unknown) => {
      parseHeapThreshold(value);
    },
  });
  convict.addFormat({
    name: 'listen-address',
    validate: (value: unknown) => {
      parseListenAddress(value);
    },
  });
  convict.addFormat({
    name: 'string-lists',
    validate: (value: unknown) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new Error('must be a mapping of list names to lists of strings');
      }
      for (const [name, list] of Object.entries(value)) {
        if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
          throw new Error(`list "${name}" must be a list of strings`);
        }
      }
    },
    coerce: jsonFromText,
  });
  convict.addFormat({
    name: 'routing-rules',
    validate: (value: unknown) => {
      const problems = checkRoutingRules(value);
      // convict prefixes the key; the paths inside say where in the list.
      if (problems.length > 0) throw new Error(problems.join('; '));
    },
    coerce: jsonFromText,
  });
  convict.addFormat({
    name: 'string-list',
    validate: (value: unknown) => {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
        throw new Error('must be a list of non-empty strings');
      }
    },
    coerce: (value: unknown) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : value,
  });
}
