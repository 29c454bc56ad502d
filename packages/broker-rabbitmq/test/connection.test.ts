import { BrokerUnavailableError } from '@orchestron/broker';
import { reconnectDelay } from '../src/backoff';
import { isChannelRefusal, unavailable } from '../src/errors';
import { connectionUrl, redactUrl } from '../src/url';

describe('connectionUrl', () => {
  it('adds the heartbeat to the query', () => {
    expect(connectionUrl('amqp://u:p@host:5672/vhost', 15)).toBe('amqp://u:p@host:5672/vhost?heartbeat=15');
  });

  it('keeps a heartbeat the URL already sets, and the rest of the query', () => {
    expect(connectionUrl('amqps://host/%2F?heartbeat=5&frameMax=8192', 30)).toBe(
      'amqps://host/%2F?heartbeat=5&frameMax=8192',
    );
  });

  it('refuses anything but amqp:// and amqps://', () => {
    expect(() => connectionUrl('http://host', 30)).toThrow(/amqp:\/\/ or amqps:\/\//);
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('amqp://user:secret@host:5672/v')).toBe('amqp://user:***@host:5672/v');
  });

  it('never echoes an unparseable URL, which may hold a password', () => {
    expect(redactUrl('amqp://user:secret@')).toBe('<invalid url>');
  });
});

describe('reconnectDelay', () => {
  it('is zero before any failure, then doubles up to the maximum, with jitter in the upper half', () => {
    const top = () => 1;
    const bottom = () => 0;
    expect(reconnectDelay(0, 200, 30_000, top)).toBe(0);
    expect([1, 2, 3, 4].map((n) => reconnectDelay(n, 200, 30_000, top))).toEqual([200, 400, 800, 1_600]);
    expect(reconnectDelay(3, 200, 30_000, bottom)).toBe(400);
    expect(reconnectDelay(20, 200, 30_000, top)).toBe(30_000);
    expect(reconnectDelay(5_000, 200, 30_000, top)).toBe(30_000);
  });
});

describe('error classification', () => {
  it('treats channel-level refusals (403, 404, 405, 406) as refusals', () => {
    for (const code of [403, 404, 405, 406]) {
      expect(isChannelRefusal(Object.assign(new Error('refused'), { code }))).toBe(true);
    }
  });

  it('treats connection trouble as not a refusal', () => {
    expect(isChannelRefusal(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isChannelRefusal(Object.assign(new Error('closed'), { code: 320 }))).toBe(false);
    expect(isChannelRefusal('not an error')).toBe(false);
  });

  it('wraps causes in BrokerUnavailableError, once', () => {
    const cause = new Error('socket hang up');
    const error = unavailable('publish failed', cause);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error.message).toBe('RabbitMQ publish failed: socket hang up');
    expect(error.cause).toBe(cause);
    expect(unavailable('again', error)).toBe(error);
  });
});
