import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';

export interface TlsFiles {
  cert_file: string;
  key_file: string;
  ca_file: string;
}

export type ReloadableTlsServer = http.Server | https.Server;

/** The certificate, key and client CA, read now (a reload calls it again for rotated files). */
export function readTlsOptions(files: TlsFiles): SecureContextOptions {
  return {
    cert: readFileSync(files.cert_file),
    key: readFileSync(files.key_file),
    ...(files.ca_file ? { ca: readFileSync(files.ca_file) } : {}),
  };
}

/**
 * HTTP, or HTTPS when api.tls names a certificate. With a client CA, clients are asked for a
 * certificate but the handshake does not demand one: the app refuses requests without a valid
 * one (401), except the probes, which kubelets send without a client certificate.
 */
export function createServer(app: ExpressLikeApp, tls: TlsFiles): ReloadableTlsServer {
  const classes = requestClassesOf(app);
  if (!tls.cert_file) return http.createServer(classes, app);
  return https.createServer(
    { ...classes, ...readTlsOptions(tls), requestCert: tls.ca_file !== '', rejectUnauthorized: false },
    app,
  );
}

/** An express app: a request listener that gives each request and response its own prototypes. */
export type ExpressLikeApp = RequestListener & { request: object; response: object };

/**
 * Request and response classes whose instances are born with the app's prototypes. Express
 * sets those prototypes on every request it handles (Object.setPrototypeOf on Node's objects),
 * which moves both objects to new hidden classes and leaves V8's inline caches for them
 * megamorphic: ingest answered 16-25% more requests at one request at a time without it on
 * Node 20 and 22 (little difference on Node 24; docs/benchmarks.md). Setting a prototype an
 * object already has changes nothing, so express behaves as before.
 */
function requestClassesOf(app: ExpressLikeApp): {
  IncomingMessage: typeof http.IncomingMessage;
  ServerResponse: typeof http.ServerResponse;
} {
  function AppRequest(this: http.IncomingMessage, ...args: [Socket]) {
    http.IncomingMessage.apply(this, args);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: http.ServerResponse, ...args: [http.IncomingMessage]) {
    http.ServerResponse.apply(this, args);
  }
  AppResponse.prototype = app.response;
  return {
    IncomingMessage: AppRequest as unknown as typeof http.IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof http.ServerResponse,
  };
}
