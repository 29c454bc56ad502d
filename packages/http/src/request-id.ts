import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id of this request: the caller's X-Request-Id when sane, else a new one. */
export function requestIdOf(res: Response): string {
  return res.locals.requestId as string;
}

/** Accepts the caller's X-Request-Id (if it is a sane token), else makes one; echoes it. */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const given = req.get('x-request-id');
  const id = given && ACCEPTABLE_REQUEST_ID.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
}
