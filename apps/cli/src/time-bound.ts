import { UsageError } from './usage-error';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A point in time given as an ISO 8601 time ("2026-11-26T10:00:00Z", "2026-11-26") or as a
 * duration back from `now` ("24h", "30m", "7d", "1h30m"). `option` names the flag in errors.
 */
export function parseTimeBound(text: string, option: string, now: Date = new Date()): Date {
  const trimmed = text.trim();
  const ago = durationMs(trimmed);
  if (ago !== null) return new Date(now.getTime() - ago);
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const time = new Date(trimmed);
    if (!Number.isNaN(time.getTime())) return time;
  }
  throw new UsageError(`${option}: "${text}" is neither an ISO time (2026-11-26T10:00:00Z) nor a duration (24h, 7d)`);
}

/** "1h30m" -> 5 400 000; null when the text is not a duration. */
export function durationMs(text: string): number | null {
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(text)) return null;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) {
    total += Number(amount) * (UNIT_MS[unit as string] as number);
  }
  return Math.round(total);
}
