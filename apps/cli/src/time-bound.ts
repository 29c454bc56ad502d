import { timeBoundOf } from '@orchestron/config';
import { UsageError } from './usage-error';

export { durationMs } from '@orchestron/config';

/**
 * A point in time given as an ISO 8601 time ("2026-11-26T10:00:00Z", "2026-11-26") or as a
 * duration back from `now` ("24h", "30m", "7d", "1h30m"). `option` names the flag in errors.
 */
export function parseTimeBound(text: string, option: string, now: Date = new Date()): Date {
  const time = timeBoundOf(text, now);
  if (time) return time;
  throw new UsageError(`${option}: "${text}" is neither an ISO time (2026-11-26T10:00:00Z) nor a duration (24h, 7d)`);
}
