import { Problem } from '@orchestron/http';

/** The Problem `fn` throws; fails the test when it throws something else or nothing. */
export function problemOf(fn: () => unknown): Problem {
  try {
    fn();
  } catch (error) {
    if (error instanceof Problem) return error;
    throw error;
  }
  throw new Error('expected a Problem');
}

/** Where each error of a problem points: its JSON pointer or its header name. */
export function locations(problem: Problem): string[] {
  return (problem.errors ?? []).map((e) => (e.header !== undefined ? `header ${e.header}` : (e.pointer ?? '?')));
}
