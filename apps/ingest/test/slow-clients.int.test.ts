import net from 'node:net';
import { createTestDatabase, type TestDatabase } from '@orchestron/testing';
import { rowCounts, startInProcessIngest, type InProcessIngest } from './in-process-ingest';

// Issue #12, "What was seen" 7: slow clients were bounded only by Node's defaults (headers at
// 1 byte/s held a connection 67 s, a body up to 300 s; a declared 10 MB body got no 413).

let database: TestDatabase;
let ingest: InProcessIngest;
const TIMEOUTS = { headersMs: 1_000, requestMs: 2_000, keepAliveMs: 1_000 };

beforeAll(async () => {
  database = await createTestDatabase('slow_clients');
  ingest = await startInProcessIngest(database, { acceptUnknownTypesFrom: ['*'] }, TIMEOUTS);
});

afterAll(async () => {
  await ingest?.stop();
  await database.drop();
});

interface Exchange {
  /** Everything the server sent. */
  received: string;
  /** When the server closed the connection, in ms after connecting. */
  closedAfterMs: number;
  /** When the first byte of an answer came, in ms after connecting (Infinity if none). */
  answeredAfterMs: number;
}

/**
 * Opens a raw connection, writes `head` at once, then `trickle` one byte every `intervalMs`
 * until the server closes the connection (or `giveUpMs` passes).
 */
function exchange(head: string, trickle: string, intervalMs: number, giveUpMs = 15_000): Promise<Exchange> {
  const { port } = new URL(ingest.url);
  return new Promise((resolve) => {
    const started = Date.now();
    let received = '';
    let answeredAfterMs = Infinity;
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(head);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < trickle.length && !socket.destroyed) socket.write(trickle[sent++] as string);
      }, intervalMs);
      const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
      socket.on('close', () => {
        clearInterval(timer);
        clearTimeout(giveUp);
        resolve({ received, closedAfterMs: Date.now() - started, answeredAfterMs });
      });
    });
    socket.on('data', (chunk) => {
      if (received === '') answeredAfterMs = Date.now() - started;
      received += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
  });
}

const body = '{"type":"slow.thing","data":{"n":1}}';

describe('slow clients', () => {
  it('closes a connection whose headers trickle in, soon after api.headers_timeout', async () => {
    const result = await exchange('POST /events HTTP/1.1\r\nHost: x\r\n', 'X-Slow: '.padEnd(200, 'a'), 100);
    expect(result.closedAfterMs).toBeLessThan(TIMEOUTS.headersMs + 3_000);
    expect(result.received === '' || result.received.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('closes a connection whose body trickles in, soon after api.request_timeout, storing nothing', async () => {
    const head = `POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const result = await exchange(head, body, 300);
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(TIMEOUTS.requestMs - 100);
    expect(result.closedAfterMs).toBeLessThan(TIMEOUTS.requestMs + 3_000);
    expect(result.received === '' || result.received.startsWith('HTTP/1.1 408')).toBe(true);
    expect(await rowCounts(database)).toEqual({ events: 0, outbox: 0 });
  });

  it.each(['/events', '/webhooks/open'])(
    'answers a declared Content-Length over the limit on %s with 413 at once, and closes the connection',
    async (path) => {
      const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n0123456789`;
      const result = await exchange(head, '', 1_000);
      expect(result.received).toMatch(/^HTTP\/1\.1 413 /);
      expect(result.received).toMatch(/\r\nconnection: close\r\n/i);
      expect(result.received).toMatch(/application\/problem\+json/);
      expect(result.answeredAfterMs).toBeLessThan(1_500);
      expect(result.closedAfterMs).toBeLessThan(1_500);
    },
  );

  it('lets a client sending a body over the limit at full speed read its 413', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${ingest.url}/events`, {
        method: 'POST',
        body: Buffer.alloc(8 * 1024 * 1024, 0x20),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(413);
    }
  });

  it('closes an idle keep-alive connection after api.keep_alive_timeout', async () => {
    const head = `POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const result = await exchange(head, '', 1_000);
    expect(result.received).toMatch(/^HTTP\/1\.1 202 /);
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(TIMEOUTS.keepAliveMs - 100);
    expect(result.closedAfterMs).toBeLessThan(TIMEOUTS.keepAliveMs + 3_000);
  });

  it('serves a client that sends at a normal pace', async () => {
    const response = await fetch(`${ingest.url}/events`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(202);
  });
});
