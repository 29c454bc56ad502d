import { Problem, type ProblemError } from '@orchestron/http';

/** 400 for events that are not valid CloudEvents, listing every problem where it is. */
export function invalidCloudEvents(errors: ProblemError[], batch = false): Problem {
  return new Problem(
    400,
    'invalid-cloudevent',
    'Invalid CloudEvent',
    batch ? 'the batch holds events that are not valid CloudEvents' : 'the request is not a valid CloudEvent',
    errors,
  );
}
