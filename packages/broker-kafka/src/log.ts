import { logLevel, type logCreator } from 'kafkajs';
import type { BrokerLogger } from '@orchestron/broker';

/**
 * kafkajs warns about this whenever an idempotent producer is built with finite retries.
 * Finite retries are deliberate here (a publish must fail within a bounded time and relay
 * retries it, at-least-once), so the warning would only alarm operators.
 */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer may invalidate EoS guarantees'];

/**
 * Routes kafkajs logs to our logger. Levels are lowered by one notch: kafkajs logs every
 * retried request failure at ERROR and lifecycle chatter at INFO, while the failure that
 * matters reaches the caller as an error, who decides how loud it is.
 */
export function kafkaLogCreator(logger: BrokerLogger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
      const meta = { namespace, ...extra };
      if (level <= logLevel.WARN && EXPECTED_WARNINGS.includes(message)) {
        logger.debug(`kafkajs: ${message}`, meta);
      } else if (level === logLevel.ERROR || level === logLevel.WARN) {
        logger.warn(`kafkajs: ${message}`, meta);
      } else {
        logger.debug(`kafkajs: ${message}`, meta);
      }
    };
}
