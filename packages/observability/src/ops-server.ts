import http from 'node:http';
import type { Registry } from 'prom-client';
import { runChecks, type HealthCheck } from './health';

/**
 * A small HTTP server for workers without an API of their own (relay): /health (liveness:
 * the process answers), /ready (every check passes), /metrics (Prometheus text format).
 */
export function startOpsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  readiness: readonly HealthCheck[];
}): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, contentType: string, body: string): void => {
      res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, 'text/plain', 'method not allowed\n');
    if (path === '/health') return reply(200, 'application/json', '{"status":"ok"}');
    if (path === '/ready') {
      void runChecks(options.readiness).then((report) =>
        reply(report.ready ? 200 : 503, 'application/json', JSON.stringify(report)),
      );
      return;
    }
    if (path === '/metrics') {
      void options.registry.metrics().then(
        (text) => reply(200, options.registry.contentType, text),
        (error: Error) => reply(500, 'text/plain', `${error.message}\n`),
      );
      return;
    }
    reply(404, 'text/plain', 'not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}
