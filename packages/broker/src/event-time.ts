/** The largest UTC offset RFC 3339 can write: 23:59, in minutes. */
const MAX_OFFSET_MINUTES = 23 * 60 + 59;

/**
 * The CloudEvents `time` attribute of an event time (both bindings write it): RFC 3339 in UTC
 * with millisecond precision, e.g. `2026-11-26T10:00:00.000Z`.
 *
 * RFC 3339 years have four digits. A sender's time at the edge of that range with an offset
 * (`9999-12-31T23:00:00-05:00`, `0000-01-01T00:30:00+01:00`) is an instant whose UTC year is
 * 10000 or -1, which `toISOString` writes in an expanded form (`+010000-…`) that RFC 3339
 * parsers refuse. Such an instant is written with the largest offset RFC 3339 allows instead
 * (`-23:59` after 9999, `+23:59` before 0000): the same instant, in a four-digit year. An
 * instant not even that reaches (never one a sender's RFC 3339 time can be) throws.
 */
export function cloudEventsTime(time: Date): string {
  const year = time.getUTCFullYear();
  if (year >= 0 && year <= 9999) return time.toISOString();
  const offsetMinutes = year > 9999 ? -MAX_OFFSET_MINUTES : MAX_OFFSET_MINUTES;
  const local = new Date(time.getTime() + offsetMinutes * 60_000);
  const localYear = local.getUTCFullYear();
  if (Number.isNaN(localYear) || localYear < 0 || localYear > 9999) {
    throw new RangeError(`the event time ${String(time.getTime())} ms is outside what RFC 3339 can write`);
  }
  return `${local.toISOString().slice(0, -1)}${offsetMinutes < 0 ? '-' : '+'}23:59`;
}
