// HEALTHCHECK of the ingest, relay and admin images: GET /health of the app in this container.
//   node healthcheck.js <ADDRESS_ENV_VAR> <default port>
// The port (and a specific host) come from the listen address in the environment when it is
// set there, else the image's default port. An ingest with api.tls set through the
// environment is probed over HTTPS; the certificate is not verified, this only asks whether
// the local process answers.
'use strict';
const [, , addressVariable = 'ORCHESTRON_API_ADDRESS', defaultPort = '8080'] = process.argv;
const address = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(process.env[addressVariable] ?? '');
const listenHost = address ? (address[1] ?? address[2]) : '';
const host = !listenHost || listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost;
const port = Number(address ? address[3] : defaultPort);
// The TLS certificate variable of the listener whose address variable was named.
const certificateVariable = {
  ORCHESTRON_API_ADDRESS: 'ORCHESTRON_API_TLS_CERT_FILE',
  ORCHESTRON_ADMIN_ADDRESS: 'ORCHESTRON_ADMIN_TLS_CERT_FILE',
}[addressVariable];
const tls = Boolean(certificateVariable && process.env[certificateVariable]);
const client = require(tls ? 'node:https' : 'node:http');

const request = client.get({ host, port, path: '/health', timeout: 2_000, rejectUnauthorized: false }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (error) => {
  process.stderr.write(`healthcheck: ${error.message}\n`);
  process.exit(1);
});
