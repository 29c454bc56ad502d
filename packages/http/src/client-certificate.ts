import type { TLSSocket } from 'node:tls';
import type { NextFunction, Request, Response } from 'express';
import { Problem } from './problem';

/**
 * With api.tls.ca_file (mutual TLS): refuses requests whose connection presented no
 * certificate signed by that CA. The probes stay open: kubelets present no certificate.
 */
export function requireClientCertificate(openPaths: readonly string[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (openPaths.includes(req.path)) return next();
    const socket = req.socket as TLSSocket;
    if (socket.authorized) return next();
    const reason = socket.authorizationError ? String(socket.authorizationError) : 'no certificate presented';
    throw new Problem(
      401,
      'client-certificate-required',
      'Client certificate required',
      `this server requires a client certificate signed by its CA (${reason})`,
    );
  };
}
