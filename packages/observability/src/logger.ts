import winston from 'winston';

/** The few methods components log with; they ask for this, not for winston. */
export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  /** Whether entries at `level` are written now (the level can change at run time). */
  enabled(level: LogLevel): boolean;
  child(meta: Record<string, unknown>): Logger;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface RootLogger extends Logger {
  /** Changes the level at run time (config reload). */
  setLevel(level: LogLevel): void;
}

/** Metadata keys that must never reach a log line, whatever a caller passes. */
const SECRET_KEYS = /pass(word)?|secret|token|authorization|api[-_]?key|cookie|payload|^data$/i;

/** A copy of `value` with secret keys masked at any depth (the caller's objects stay as they are). */
function redacted(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || value instanceof Error || depth > 6) return value;
  if (Array.isArray(value)) return value.map((item) => redacted(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_KEYS.test(key) ? '[redacted]' : redacted(item, depth + 1);
  }
  return copy;
}

const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    info[key] = SECRET_KEYS.test(key) ? '[redacted]' : redacted(info[key], 1);
  }
  return info;
});

/** JSON lines on stdout, one per entry, with the service name and an ISO timestamp. */
export function createLogger(options: { service: string; level?: LogLevel; silent?: boolean }): RootLogger {
  const logger = winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      redactSecrets(),
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console({ silent: options.silent ?? false })],
  });
  return wrap(logger, (level) => {
    logger.level = level;
  });
}

function wrap(logger: winston.Logger, setLevel: (level: LogLevel) => void): RootLogger {
  // winston formats an entry (redaction, timestamp, JSON) before its transport drops it for its
  // level, so an entry below the level is checked here first: ingest's per-request debug lines
  // would otherwise cost a JSON serialisation each at level info.
  const at = (level: LogLevel) => (message: string, meta?: Record<string, unknown>) => {
    if (logger.isLevelEnabled(level)) logger[level](message, meta);
  };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    enabled: (level) => logger.isLevelEnabled(level),
    child: (meta) => wrap(logger.child(meta), setLevel),
    setLevel,
  };
}

/** Turns any thrown value into loggable fields without leaking payloads. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return { error: error.message, errorName: error.name, ...(cause ? { cause } : {}) };
  }
  return { error: String(error) };
}
