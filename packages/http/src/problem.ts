import type { Request, Response } from 'express';
import { requestIdOf } from './request-id';

/**
 * One entry of a problem's `errors`: where in the request and what is wrong there. Where is
 * one of: a JSON pointer into the body, for what a request carries in its headers
 * (CloudEvents binary mode: `ce-type`, ...) the header's name, or a query parameter's name.
 */
export interface ProblemError {
  pointer?: string;
  header?: string;
  parameter?: string;
  message: string;
}

/**
 * An RFC 9457 problem: thrown anywhere in request handling, rendered by the error handler as
 * `application/problem+json` with the request id.
 */
export class Problem extends Error {
  override readonly name = 'Problem';
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: ProblemError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

export const PROBLEM_TYPE_BASE = 'https://orchestron.dev/problems/';

export function sendProblem(res: Response, problem: Problem, requestId: string, instance: string): void {
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: `${PROBLEM_TYPE_BASE}${problem.slug}`,
        title: problem.title,
        status: problem.status,
        ...(problem.detail ? { detail: problem.detail } : {}),
        instance,
        request_id: requestId,
        ...(problem.errors ? { errors: problem.errors } : {}),
      }),
    );
}

/** The last handler of an app: a 404 problem for any path no route matched. */
export function answerNoRoute(req: Request, res: Response): void {
  sendProblem(
    res,
    new Problem(404, 'not-found', 'Not found', `no route for ${req.method} ${req.path}`),
    requestIdOf(res),
    req.originalUrl,
  );
}
