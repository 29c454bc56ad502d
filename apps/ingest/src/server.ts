import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { RequestListener } from 'node:http';
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
export function createServer(app: RequestListener, tls: TlsFiles): ReloadableTlsServer {
  if (!tls.cert_file) return http.createServer(app);
  return https.createServer(
    { ...readTlsOptions(tls), requestCert: tls.ca_file !== '', rejectUnauthorized: false },
    app,
  );
}
