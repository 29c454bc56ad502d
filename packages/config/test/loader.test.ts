import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, configKeys, loadConfig, redactConfig } from '../src';

const SEED = `api: {address: ":8080", rate_limit: 100, rate_limit_burst: 20, max_payload_size: "1MB"}
database: {host: "localhost", port: 5432, user: "postgres", password: "postgres", name: "orchestron", max_connections: 20}
broker: {type: "rabbitmq", rabbitmq: {host: "localhost", port: 5672, user: "guest", password: "guest", vhost: "/", prefetch_count: 100}}
routing: {default_topic: "events", default_exchange: "events", default_routing_key: "#", max_retries: 3}
outbox: {process_interval: "5s", batch_size: 100}
`;

function writeTemp(name: string, content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'orchestron-config-'));
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('accepts the seed YAML exactly as written and resolves durations and sizes', () => {
    const config = loadConfig({ file: writeTemp('seed.yaml', SEED), env: {} });
    expect(config.api).toMatchObject({ address: ':8080', rate_limit: 100, rate_limit_burst: 20 });
    expect(config.api.max_payload_size).toBe(1024 * 1024);
    expect(config.database).toMatchObject({ host: 'localhost', port: 5432, name: 'orchestron', max_connections: 20 });
    expect(config.broker.type).toBe('rabbitmq');
    expect(config.broker.rabbitmq.prefetch_count).toBe(100);
    expect(config.routing).toEqual({
      default_topic: 'events',
      default_exchange: 'events',
      default_routing_key: '#',
      max_retries: 3,
      rules: [],
    });
    expect(config.outbox.process_interval).toBe(5_000);
    expect(config.outbox.batch_size).toBe(100);
  });

  it('finds the file from --config, then from ORCHESTRON_CONFIG', () => {
    const file = writeTemp('a.yaml', 'outbox: {batch_size: 7}\n');
    expect(loadConfig({ argv: ['--config', file], env: {} }).outbox.batch_size).toBe(7);
    expect(loadConfig({ argv: [`--config=${file}`], env: {} }).outbox.batch_size).toBe(7);
    expect(loadConfig({ env: { ORCHESTRON_CONFIG: file } }).outbox.batch_size).toBe(7);
  });

  it('runs on defaults alone', () => {
    const config = loadConfig({ env: {} });
    expect(config.broker.type).toBe('rabbitmq');
    expect(config.outbox.concurrency).toBe(2);
  });

  it('lets environment variables override the file, and parses lists and durations from text', () => {
    const config = loadConfig({
      file: writeTemp('seed.yaml', SEED),
      env: {
        ORCHESTRON_BROKER_TYPE: 'kafka',
        KAFKA_BROKERS: 'a:9092, b:9092',
        ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '250ms',
        ORCHESTRON_API_RATE_LIMIT: '5',
        DATABASE_URL: 'postgres://u@db/x',
      },
    });
    expect(config.broker.type).toBe('kafka');
    expect(config.broker.kafka.brokers).toEqual(['a:9092', 'b:9092']);
    expect(config.outbox.process_interval).toBe(250);
    expect(config.api.rate_limit).toBe(5);
    expect(config.database.url).toBe('postgres://u@db/x');
  });

  it('reads a secret from the file named by <VAR>_FILE', () => {
    const secret = writeTemp('pw', 's3cret\n');
    const config = loadConfig({ env: { ORCHESTRON_DATABASE_PASSWORD_FILE: secret } });
    expect(config.database.password).toBe('s3cret');
    expect(redactConfig(config).database.password).toBe('[redacted]');
  });

  it('lists every problem at once', () => {
    const file = writeTemp(
      'bad.yaml',
      'api: {rate_limit: -1, address: "nowhere"}\nbroker: {type: nats}\noutbox: {process_interval: soon}\nunknown_section: 1\n',
    );
    const problems = problemsOf(() => loadConfig({ file, env: { ORCHESTRON_DATABASE_PORT_FILE: '/does/not/exist' } }));
    const text = problems.join('\n');
    expect(text).toMatch(/api\.rate_limit/);
    expect(text).toMatch(/api\.address/);
    expect(text).toMatch(/broker\.type/);
    expect(text).toMatch(/outbox\.process_interval/);
    expect(text).toMatch(/unknown_section/);
    expect(text).toMatch(/ORCHESTRON_DATABASE_PORT_FILE/);
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it('rejects YAML that does not parse, and a missing file, with the file name', () => {
    expect(problemsOf(() => loadConfig({ file: writeTemp('x.yaml', 'api: [1, 2'), env: {} }))[0]).toMatch(
      /not valid YAML/,
    );
    expect(problemsOf(() => loadConfig({ file: '/no/such/orchestron.yaml', env: {} }))[0]).toMatch(
      /cannot read config file \/no\/such\/orchestron.yaml/,
    );
  });

  it('takes routing rules from the file or as JSON from the environment, and lists their problems', () => {
    const file = writeTemp(
      'rules.yaml',
      'routing:\n  rules:\n    - match: {type: "order.*"}\n      destinations: [{broker: kafka, topic: orders}]\n',
    );
    expect(loadConfig({ file, env: {} }).routing.rules).toEqual([
      { match: { type: 'order.*' }, destinations: [{ broker: 'kafka', topic: 'orders' }] },
    ]);
    const fromEnv = loadConfig({
      env: { ORCHESTRON_ROUTING_RULES: '[{"destinations":[{"broker":"rabbitmq","exchange":"x"}]}]' },
    });
    expect(fromEnv.routing.rules).toHaveLength(1);
    const problems = problemsOf(() =>
      loadConfig({ env: { ORCHESTRON_ROUTING_RULES: '[{"destinations":[{"broker":"kafka"}]}]' } }),
    );
    expect(problems.join('\n')).toMatch(/routing\.rules\[0\]\.destinations\[0\]\.topic/);
  });

  it('checks values that only make sense together', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { ORCHESTRON_OUTBOX_BATCH_SIZE: '0', ORCHESTRON_BROKER_KAFKA_SASL_MECHANISM: 'plain' } }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'outbox.batch_size: must be at least 1',
        'broker.kafka.sasl: username and password are needed when a mechanism is set',
      ]),
    );
  });

  it('refuses an admin address on the port of the ingest address, and admin TLS files without their pair', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          ORCHESTRON_API_ADDRESS: ':9000',
          ORCHESTRON_ADMIN_ADDRESS: '127.0.0.1:9000',
          ORCHESTRON_ADMIN_TLS_CA_FILE: '/nonexistent/ca.pem',
        },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        "admin.address: port 9000 is api.address's; the admin API never shares a port with ingest",
        'admin.tls.ca_file: client certificates need HTTPS; set admin.tls.cert_file and admin.tls.key_file',
      ]),
    );
    expect(loadConfig({ env: {} }).admin).toMatchObject({ address: ':8081', key_rotation_grace: 86_400_000 });
  });

  it('names an environment variable for every key', () => {
    const keys = configKeys();
    expect(keys.length).toBeGreaterThan(30);
    const envs = keys.map((k) => k.env);
    expect(new Set(envs).size).toBe(envs.length);
    expect(keys.find((k) => k.path === 'api.rate_limit_burst')?.env).toBe('ORCHESTRON_API_RATE_LIMIT_BURST');
  });
});

describe('schemas.lists', () => {
  it('takes named value lists from the file, or as JSON from the environment', () => {
    const file = writeTemp('lists.yaml', 'schemas:\n  directory: schemas\n  lists:\n    currencies: [EUR, USD]\n');
    expect(loadConfig({ file, env: {} }).schemas.lists).toEqual({ currencies: ['EUR', 'USD'] });
    expect(loadConfig({ env: { ORCHESTRON_SCHEMAS_LISTS: '{"regions":["eu"]}' } }).schemas.lists).toEqual({
      regions: ['eu'],
    });
    expect(problemsOf(() => loadConfig({ env: { ORCHESTRON_SCHEMAS_LISTS: '{"x":[1]}' } })).join()).toMatch(
      /schemas\.lists/,
    );
  });
});
