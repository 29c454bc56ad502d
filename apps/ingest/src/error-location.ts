import type { IncomingEvent } from './incoming-event';
import type { ProblemError } from '@orchestron/http';

/**
 * A problem with one attribute of an event (`type`, `source`, `time`, `schema_version`),
 * located where the sender put it: a JSON pointer into the body, or the `ce-<attribute>`
 * header of a CloudEvents binary-mode request.
 */
export function attributeError(event: IncomingEvent, attribute: string, message: string): ProblemError {
  return event.attributesIn === 'headers'
    ? { header: `ce-${attribute}`, message }
    : { pointer: `${event.pointer}/${attribute}`, message };
}

/** A schema violation at `pointer` inside the event's data, located in the request. */
export function dataError(event: IncomingEvent, pointer: string, message: string): ProblemError {
  if (event.dataInString && pointer !== '') return { pointer: event.dataPointer, message: `at ${pointer}: ${message}` };
  return { pointer: `${event.dataPointer}${pointer}`, message };
}

/** Whether the problem is about an event's type (every such error: an unknown type). */
export function isTypeError(error: ProblemError): boolean {
  return error.header !== undefined ? error.header === 'ce-type' : (error.pointer ?? '').endsWith('/type');
}
