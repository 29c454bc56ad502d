import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src';

const dir = mkdtempSync(path.join(tmpdir(), 'orchestron-tls-keys-'));
const pem = path.join(dir, 'cert.pem');
writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('TLS file keys', () => {
  it('accept readable files for each connection whose TLS is on', () => {
    const config = loadConfig({
      env: {
        ORCHESTRON_API_TLS_CERT_FILE: pem,
        ORCHESTRON_API_TLS_KEY_FILE: pem,
        ORCHESTRON_API_TLS_CA_FILE: pem,
        ORCHESTRON_DATABASE_SSL: 'true',
        ORCHESTRON_DATABASE_SSL_CA_FILE: pem,
        ORCHESTRON_DATABASE_SSL_REJECT_UNAUTHORIZED: 'false',
        ORCHESTRON_BROKER_RABBITMQ_TLS: 'true',
        ORCHESTRON_BROKER_RABBITMQ_CA_FILE: pem,
        ORCHESTRON_BROKER_KAFKA_SSL: 'true',
        ORCHESTRON_BROKER_KAFKA_SSL_CA_FILE: pem,
        ORCHESTRON_BROKER_KAFKA_SSL_CERT_FILE: pem,
        ORCHESTRON_BROKER_KAFKA_SSL_KEY_FILE: pem,
      },
    });
    expect(config.api.tls).toEqual({ cert_file: pem, key_file: pem, ca_file: pem });
    expect(config.database).toMatchObject({ ssl: true, ssl_ca_file: pem, ssl_reject_unauthorized: false });
    expect(config.broker.rabbitmq.ca_file).toBe(pem);
    expect(config.broker.kafka).toMatchObject({ ssl_ca_file: pem, ssl_cert_file: pem, ssl_key_file: pem });
  });

  it('verify server certificates by default', () => {
    expect(loadConfig({ env: {} }).database.ssl_reject_unauthorized).toBe(true);
  });

  it('list every problem: a certificate without its key, files for TLS that is off, unreadable files', () => {
    const problems = problemsOf({
      ORCHESTRON_API_TLS_CERT_FILE: pem,
      ORCHESTRON_DATABASE_SSL_CA_FILE: pem,
      ORCHESTRON_BROKER_RABBITMQ_TLS: 'true',
      ORCHESTRON_BROKER_RABBITMQ_CA_FILE: path.join(dir, 'missing.pem'),
    });
    expect(problems).toEqual([
      'api.tls.key_file: is needed with api.tls.cert_file',
      'database.ssl_ca_file: is set but database.ssl is false',
      `broker.rabbitmq.ca_file: cannot read ${path.join(dir, 'missing.pem')}: ENOENT`,
    ]);
  });

  it('refuse a client CA without a server certificate', () => {
    expect(problemsOf({ ORCHESTRON_API_TLS_CA_FILE: pem })).toEqual([
      'api.tls.ca_file: client certificates need HTTPS; set api.tls.cert_file and api.tls.key_file',
    ]);
  });

  it('take TLS to RabbitMQ as on when the URL is amqps://', () => {
    expect(problemsOf({ AMQP_URL: 'amqps://guest:guest@mq:5671', ORCHESTRON_BROKER_RABBITMQ_CA_FILE: pem })).toEqual(
      [],
    );
  });
});
