/** `hh:mm:60` of an RFC 3339 time (ingest validates the whole string): a leap second. */
const LEAP_SECOND = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:)60/;

/**
 * The instant of the sender's RFC 3339 `time` (as ingest stored it, validated), truncated to
 * the millisecond as JavaScript dates are. A leap second (`2016-12-31T23:59:60Z`), which
 * `Date` cannot parse, is the second after `23:59:59`: `2017-01-01T00:00:00Z`, as POSIX time
 * and most clocks that smear or step it count it. Throws on a time it cannot read, which
 * makes the row's rejection (retried, then dead-lettered with this message) rather than a
 * message with some other time in place of the sender's.
 */
export function senderTime(text: string): Date {
  const leap = LEAP_SECOND.exec(text);
  const parsed = leap ? Date.parse(`${leap[1]}59${text.slice(leap[0].length)}`) + 1000 : Date.parse(text);
  if (Number.isNaN(parsed)) throw new Error(`the sender's time "${text}" is not an RFC 3339 timestamp`);
  return new Date(parsed);
}
