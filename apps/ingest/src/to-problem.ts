import { STATUS_CODES } from 'node:http';
import type { Request } from 'express';
import { isConnectionError } from '@orchestron/db';
import { Problem } from '@orchestron/http';

/**
 * The problem to answer for an error thrown while handling a request: the one place where
 * errors become statuses. A Problem stands for itself; an error the libraries mark with a
 * client status (body-parser reading the body, the router decoding a path parameter) keeps
 * that status; text or numbers Postgres cannot store are the sender's fault too; a lost
 * database is a 503. Only what is left is a 500.
 */
export function toProblem(error: unknown, req: Request): Problem {
  if (error instanceof Problem) return error;
  const status = clientStatusOf(error);
  if (status !== undefined) return clientProblem(error as HttpError, status, req);
  const code = (error as { code?: string }).code;
  // 22P05 untranslatable character (a \u0000 in JSON), 22021 character not in repertoire:
  // text Postgres cannot store. The sender's input, not our fault, and retrying won't help.
  if (code === '22P05' || code === '22021') {
    return new Problem(
      400,
      'unstorable-text',
      'Unstorable text',
      'the event contains a NUL character (\\u0000) or other text that cannot be stored',
    );
  }
  // 22003 numeric value out of range: validation bounds numbers well inside Postgres's range
  // (api.max_number_digits, api.max_number_exponent), so this is a backstop, not a path.
  if (code === '22003') {
    return new Problem(
      400,
      'number-out-of-range',
      'Number out of range',
      'a number is too large or too small to store',
    );
  }
  if (isConnectionError(error)) {
    return new Problem(
      503,
      'database-unavailable',
      'Service unavailable',
      'the event store cannot be reached; retry later',
      undefined,
      { 'Retry-After': '5' },
    );
  }
  return new Problem(500, 'internal-error', 'Internal error', 'the request could not be processed; nothing was stored');
}

/** An error of the `http-errors` kind, as body-parser and the router throw them. */
interface HttpError {
  status?: number;
  statusCode?: number;
  type?: string;
  limit?: number;
  errno?: number;
  message?: string;
}

/** The 4xx status an error carries (http-errors sets `status` and `statusCode`), if any. */
function clientStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as HttpError;
  const value = status ?? statusCode;
  return typeof value === 'number' && value >= 400 && value < 500 ? value : undefined;
}

function clientProblem(error: HttpError, status: number, req: Request): Problem {
  switch (error.type) {
    case 'entity.too.large':
      return new Problem(
        413,
        'payload-too-large',
        'Payload too large',
        `the body exceeds the limit of ${error.limit} bytes`,
      );
    case 'request.aborted':
    case 'request.size.invalid':
      return new Problem(400, 'bad-request', 'Bad request', 'the request body was not received completely');
    case 'encoding.unsupported':
      return new Problem(
        415,
        'unsupported-media-type',
        'Unsupported content encoding',
        'send the body uncompressed, or compressed with gzip, deflate or br',
      );
  }
  // A zlib error (it has an errno) from body-parser's decompression stream: the body is not
  // what its Content-Encoding says (corrupt or truncated gzip, deflate or br).
  const encoding = req.headers['content-encoding']?.toLowerCase();
  if (encoding && typeof error.errno === 'number') {
    return new Problem(
      400,
      'invalid-content-encoding',
      'Invalid content encoding',
      `the body is not valid ${encoding} data (corrupt or truncated)`,
    );
  }
  if (status === 400 && /^Failed to decode param/.test(error.message ?? '')) {
    return new Problem(400, 'malformed-path', 'Malformed path', 'the path holds a malformed percent-escape');
  }
  const title = STATUS_CODES[status] ?? 'Bad request';
  return new Problem(status, title.toLowerCase().replace(/[^a-z]+/g, '-'), title, error.message);
}
