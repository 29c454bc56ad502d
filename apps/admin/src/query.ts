import type { Request } from 'express';
import { timeBoundOf } from '@orchestron/config';
import { Problem, type ProblemError } from '@orchestron/http';

/**
 * Reads and checks a request's query parameters, collecting every problem; `done()` throws
 * one 400 that lists them all (and any parameter the route does not know).
 */
export class QueryReader {
  private readonly errors: ProblemError[] = [];
  private readonly known = new Set<string>();

  constructor(
    private readonly query: Request['query'],
    private readonly now: Date = new Date(),
  ) {}

  /** A non-empty string, given at most once. */
  string(name: string): string | undefined {
    this.known.add(name);
    const value = this.query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') return this.fail(name, 'must be given once, as a plain value');
    if (value === '') return this.fail(name, 'must not be empty (leave the parameter out instead)');
    return value;
  }

  /** One of `values`. */
  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined || (values as readonly string[]).includes(value)) return value as T | undefined;
    return this.fail(name, `"${value}" is not one of ${values.join(', ')}`);
  }

  /** An ISO time or a duration back from now. */
  time(name: string): Date | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    return (
      timeBoundOf(value, this.now) ??
      this.fail(name, `"${value}" is neither an ISO time (2026-11-26T10:00:00Z) nor a duration (24h, 7d)`)
    );
  }

  /** An integer from 1 to `max`, `fallback` when absent. */
  limit(name: string, fallback: number, max: number): number {
    const value = this.string(name);
    if (value === undefined) return Math.min(fallback, max);
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
      return this.fail(name, `"${value}" is not an integer from 1 to ${max}`) ?? fallback;
    }
    return Number(value);
  }

  /** A cursor this API made (`next_cursor`), decoded; `check` says whether its key is well-formed. */
  cursor<T>(name: string, check: (key: unknown) => key is T): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const key = decodeCursor(value);
    return check(key) ? key : this.fail(name, 'is not a cursor this API returned (pass next_cursor as it is)');
  }

  /** Adds a problem found by the caller (e.g. two parameters that contradict each other). */
  problem(name: string, message: string): void {
    this.fail(name, message);
  }

  done(): void {
    for (const name of Object.keys(this.query)) {
      if (!this.known.has(name)) {
        this.errors.push({ parameter: name, message: `unknown parameter; known: ${[...this.known].join(', ')}` });
      }
    }
    if (this.errors.length > 0) {
      throw new Problem(400, 'invalid-query', 'Invalid query', 'the query parameters are not valid', this.errors);
    }
  }

  private fail(name: string, message: string): undefined {
    this.errors.push({ parameter: name, message });
    return undefined;
  }
}

/** The opaque `next_cursor` of a page whose last item has this key. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A page: `limit` items at most, and the cursor of the next page when there is one (the
 * caller fetched limit + 1 rows, so a next page is known to exist, never an empty one).
 */
export function pageOf<T, K>(
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => K,
): { rows: T[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return { rows: shown, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

/** A 404 in the same words whether the thing does not exist or is outside the key's scope. */
export function notFound(what: string, id: string | number): Problem {
  return new Problem(404, 'not-found', 'Not found', `no ${what} ${id}`);
}
