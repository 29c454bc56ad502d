/**
 * The logging the adapters need, and nothing more: a winston logger satisfies it, and a test
 * can pass a plain object. Adapters never log payloads or credentials.
 */
export interface BrokerLogger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}

/** For when no logger is given: the errors that matter reach the caller anyway. */
export const silentLogger: BrokerLogger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
