import { logLevel } from 'kafkajs';
import { kafkaConfig, retryOf } from '../src/client';
import { kafkaLogCreator } from '../src/log';

const base = { brokers: ['b1:9092', 'b2:9092'], clientId: 'relay' };

describe('kafkaConfig', () => {
  it('applies the defaults: short connection timeout, bounded retries, no logging without a logger', () => {
    expect(kafkaConfig(base)).toMatchObject({
      brokers: ['b1:9092', 'b2:9092'],
      clientId: 'relay',
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 30_000 },
      logLevel: logLevel.NOTHING,
    });
    expect(kafkaConfig(base)).not.toHaveProperty('ssl');
    expect(kafkaConfig(base)).not.toHaveProperty('sasl');
  });

  it('passes TLS and SASL through', () => {
    const config = kafkaConfig({
      ...base,
      ssl: { rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
    });
    expect(config.ssl).toEqual({ rejectUnauthorized: true });
    expect(config.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
  });

  it('keeps at least one retry, which the idempotent producer requires', () => {
    expect(retryOf({ ...base, retry: { retries: 0 } }).retries).toBe(1);
  });

  it('refuses an empty broker list', () => {
    expect(() => kafkaConfig({ ...base, brokers: [] })).toThrow(/at least one broker/);
  });
});

describe('kafkaLogCreator', () => {
  function route(level: logLevel, message: string) {
    const logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn(), debug: jest.fn() };
    kafkaLogCreator(logger)(logLevel.INFO)({
      namespace: 'Producer',
      level,
      label: 'X',
      log: { timestamp: 'now', message, logger: 'kafkajs', broker: 'b1:9092' },
    });
    return logger;
  }

  it('lowers kafkajs levels by a notch and keeps the metadata, without timestamp or logger name', () => {
    const fromError = route(logLevel.ERROR, 'Connection error');
    expect(fromError.warn).toHaveBeenCalledWith('kafkajs: Connection error', {
      namespace: 'Producer',
      broker: 'b1:9092',
    });
    expect(route(logLevel.INFO, 'Starting').debug).toHaveBeenCalled();
    expect(route(logLevel.WARN, 'Something odd').warn).toHaveBeenCalled();
  });

  it('does not pass on the warning about the idempotent producer having finite retries', () => {
    const logger = route(logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees');
    expect(logger.warn).not.toHaveBeenCalled();
    expect(logger.debug).toHaveBeenCalled();
  });
});
