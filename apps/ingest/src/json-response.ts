import type { ServerResponse } from 'node:http';

/**
 * Answers with a JSON body straight through Node's response. For the answers to accepted
 * events, sent once per request: express's `res.json()` looks the media type's charset up in
 * the MIME database, then parses and rewrites the Content-Type it has just set, and checks
 * settings and freshness that never apply to these answers (docs/benchmarks.md).
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
