import { accessSync, constants } from 'node:fs';
import type { OrchestronConfig } from './schema';

/** A certificate/key pair and its CA, as the TLS keys of one section name them. */
interface TlsFiles {
  at: string;
  /** Whether TLS is on for this connection (files of a TLS that is off are still checked). */
  enabled: boolean;
  enabledKey: string | null;
  ca: [key: string, file: string];
  cert: [key: string, file: string];
  key: [key: string, file: string];
}

function tlsFilesOf(config: OrchestronConfig): TlsFiles[] {
  const { api, admin, database, broker } = config;
  return [
    {
      at: 'api.tls',
      enabled: api.tls.cert_file !== '' || api.tls.key_file !== '',
      enabledKey: null,
      ca: ['ca_file', api.tls.ca_file],
      cert: ['cert_file', api.tls.cert_file],
      key: ['key_file', api.tls.key_file],
    },
    {
      at: 'admin.tls',
      enabled: admin.tls.cert_file !== '' || admin.tls.key_file !== '',
      enabledKey: null,
      ca: ['ca_file', admin.tls.ca_file],
      cert: ['cert_file', admin.tls.cert_file],
      key: ['key_file', admin.tls.key_file],
    },
    {
      at: 'database',
      enabled: database.ssl,
      enabledKey: 'ssl',
      ca: ['ssl_ca_file', database.ssl_ca_file],
      cert: ['ssl_cert_file', database.ssl_cert_file],
      key: ['ssl_key_file', database.ssl_key_file],
    },
    {
      at: 'broker.rabbitmq',
      // amqps:// in broker.rabbitmq.url turns TLS on as well as `tls: true`.
      enabled: broker.rabbitmq.tls || broker.rabbitmq.url.startsWith('amqps:'),
      enabledKey: 'tls',
      ca: ['ca_file', broker.rabbitmq.ca_file],
      cert: ['cert_file', broker.rabbitmq.cert_file],
      key: ['key_file', broker.rabbitmq.key_file],
    },
    {
      at: 'broker.kafka',
      enabled: broker.kafka.ssl,
      enabledKey: 'ssl',
      ca: ['ssl_ca_file', broker.kafka.ssl_ca_file],
      cert: ['ssl_cert_file', broker.kafka.ssl_cert_file],
      key: ['ssl_key_file', broker.kafka.ssl_key_file],
    },
  ];
}

/**
 * Problems with the TLS file keys: a certificate without its key (or the reverse), files set
 * for a connection whose TLS is off (they would be silently ignored), files that cannot be
 * read. Checked at load, so a reload with a missing certificate is refused, not applied.
 */
export function checkTlsFiles(config: OrchestronConfig): string[] {
  const problems: string[] = [];
  for (const section of tlsFilesOf(config)) {
    const [certKey, cert] = section.cert;
    const [keyKey, key] = section.key;
    if ((cert === '') !== (key === '')) {
      problems.push(
        `${section.at}.${cert === '' ? certKey : keyKey}: is needed with ${section.at}.${cert === '' ? keyKey : certKey}`,
      );
    }
    const files = [section.ca, section.cert, section.key].filter(([, file]) => file !== '');
    if (section.enabledKey === null && section.ca[1] !== '' && cert === '') {
      problems.push(
        `${section.at}.ca_file: client certificates need HTTPS; set ${section.at}.cert_file and ${section.at}.key_file`,
      );
    }
    if (!section.enabled && section.enabledKey && files.length > 0) {
      problems.push(`${section.at}.${files[0]?.[0]}: is set but ${section.at}.${section.enabledKey} is false`);
    }
    for (const [name, file] of files) {
      try {
        accessSync(file, constants.R_OK);
      } catch (error) {
        problems.push(
          `${section.at}.${name}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        );
      }
    }
  }
  return problems;
}
