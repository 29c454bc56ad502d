import winston from 'winston';
import { createLogger } from '../src/logger';

/** Captures what the logger writes, one parsed JSON line per entry. */
function capture(): { lines: Array<Record<string, unknown>>; restore: () => void } {
  const lines: Array<Record<string, unknown>> = [];
  const original = winston.transports.Console.prototype.log;
  winston.transports.Console.prototype.log = function log(info: Record<string | symbol, unknown>, next: () => void) {
    lines.push(JSON.parse(info[Symbol.for('message')] as string) as Record<string, unknown>);
    next();
  };
  return { lines, restore: () => (winston.transports.Console.prototype.log = original) };
}

describe('createLogger', () => {
  it('writes JSON lines with the service, and masks secret keys at any depth without touching the caller', () => {
    const { lines, restore } = capture();
    try {
      const logger = createLogger({ service: 'test' });
      const meta = {
        password: 'p',
        nested: { config: { database: { password: 'deep' } }, token: 't' },
        data: { x: 1 },
      };
      logger.info('hello', meta);
      expect(lines[0]).toMatchObject({
        message: 'hello',
        service: 'test',
        password: '[redacted]',
        nested: { config: { database: { password: '[redacted]' } }, token: '[redacted]' },
        data: '[redacted]',
      });
      expect(meta.nested.config.database.password).toBe('deep');
    } finally {
      restore();
    }
  });

  it('changes its level at run time', () => {
    const { lines, restore } = capture();
    try {
      const logger = createLogger({ service: 'test', level: 'info' });
      logger.debug('hidden');
      logger.setLevel('debug');
      logger.debug('shown');
      expect(lines.map((l) => l.message)).toEqual(['shown']);
    } finally {
      restore();
    }
  });
  it('says which levels it writes, following a level change, in children too', () => {
    const logger = createLogger({ service: 'test', level: 'info', silent: true });
    const child = logger.child({ component: 'ingest' });
    expect([logger.enabled('info'), logger.enabled('debug'), child.enabled('debug')]).toEqual([true, false, false]);
    logger.setLevel('debug');
    expect([logger.enabled('debug'), child.enabled('debug')]).toEqual([true, true]);
    logger.setLevel('error');
    expect([logger.enabled('warn'), child.enabled('error')]).toEqual([false, true]);
  });

  it('does not format an entry below its level (a debug line per request costs nothing at info)', () => {
    const { lines, restore } = capture();
    try {
      const logger = createLogger({ service: 'test', level: 'info' });
      const child = logger.child({ component: 'ingest' });
      let read = 0;
      const meta = {
        get requestId() {
          read++;
          return 'r-1';
        },
      };
      child.debug('request', meta);
      expect(read).toBe(0);
      logger.setLevel('debug');
      child.debug('request', meta);
      expect(read).toBeGreaterThan(0);
      expect(lines).toEqual([expect.objectContaining({ message: 'request', requestId: 'r-1', component: 'ingest' })]);
    } finally {
      restore();
    }
  });
});
