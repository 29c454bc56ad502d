import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** PEM files made with the openssl CLI for one test file; valid for a day. */
export interface TestCertificates {
  /** The CA that signed the server and client certificates. */
  ca: string;
  /** A server certificate for 127.0.0.1 and localhost, and its key (PKCS#8, unencrypted). */
  serverCert: string;
  serverKey: string;
  /** A client certificate (CN = `clientName`), and its key. */
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: trusting only it must fail. */
  otherCa: string;
  /** A client certificate signed by otherCa, and its key. */
  strangerCert: string;
  strangerKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-nodes',
      '-newkey',
      'rsa:2048',
      '-days',
      '1',
      '-subj',
      `/CN=Orchestron test ${name}`,
    ].concat(['-keyout', `${name}.key`, '-out', `${name}.crt`]),
    dir,
  );
}

/** Signs a new key's certificate with `ca`; `extensions` in openssl x509 -extfile form. */
export function issue(dir: string, ca: string, name: string, subject: string, extensions: string): void {
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(
    ['req', '-new', '-nodes', '-newkey', 'rsa:2048', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`],
    dir,
  );
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial'].concat([
      '-days',
      '1',
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    ]),
    dir,
  );
}

export const SERVER_EXTENSIONS = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
export const CLIENT_EXTENSIONS = 'extendedKeyUsage=clientAuth\n';

/** A CA, a server and a client certificate signed by it, and a stranger CA with its own client. */
export function makeCertificates(dir: string, clientName = 'orchestron'): TestCertificates {
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  issue(dir, 'ca', 'server', '/CN=localhost', SERVER_EXTENSIONS);
  issue(dir, 'ca', 'client', `/CN=${clientName}`, CLIENT_EXTENSIONS);
  issue(dir, 'other-ca', 'stranger', `/CN=${clientName}`, CLIENT_EXTENSIONS);
  const at = (file: string) => path.join(dir, file);
  return {
    ca: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    otherCa: at('other-ca.crt'),
    strangerCert: at('stranger.crt'),
    strangerKey: at('stranger.key'),
  };
}
