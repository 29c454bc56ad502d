import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { createServer, type ReloadableTlsServer } from '../src/server';

const noTls = { cert_file: '', key_file: '', ca_file: '' };

describe('createServer', () => {
  let server: ReloadableTlsServer;
  let url: string;
  const seen: { request: unknown; response: unknown }[] = [];
  const app = express();
  app.use(express.json());
  app.post('/echo', (req, res) => {
    res.locals.note = 'from locals';
    res.status(201).json({ header: req.get('x-test'), body: req.body as unknown, note: res.locals.note });
  });

  beforeAll(async () => {
    server = createServer(app, noTls);
    // Runs before express sees the request: what Node's server made, untouched by express.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      seen.push({ request: Object.getPrototypeOf(req), response: Object.getPrototypeOf(res) });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("makes requests and responses with the app's own prototypes, so express need not swap them", async () => {
    seen.length = 0;
    await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.request).toBe(app.request);
    expect(seen[0]?.response).toBe(app.response);
  });

  it('leaves express working as it does on a plain server: headers, body parsing, locals, status, json', async () => {
    const answer = await fetch(`${url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test': 'yes' },
      body: JSON.stringify({ a: [1, 2] }),
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await answer.json()).toEqual({ header: 'yes', body: { a: [1, 2] }, note: 'from locals' });
  });

  it('answers requests express has no route for with its 404', async () => {
    const answer = await fetch(`${url}/nowhere`);
    expect(answer.status).toBe(404);
  });
});
