import { errorFields, type Logger } from './logger';

/**
 * Graceful shutdown on SIGTERM and SIGINT: `stop` runs once (stop intake, drain, close); if it
 * has not finished within `timeoutMs`, or it fails, or a second signal comes, the process
 * exits at once with status 1.
 */
export function stopOnSignals(options: {
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  timeoutMs: number;
  stop: () => Promise<void>;
  /** Logged with the signal when shutdown starts. */
  startMessage?: string;
  /** Logged when the deadline passes. */
  deadlineMessage?: string;
}): void {
  const { logger } = options;
  let stopping = false;
  const onSignal = (signal: string) => (): void => {
    if (stopping) {
      logger.warn('second signal, exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info(options.startMessage ?? 'shutting down', { signal });
    const deadline = setTimeout(() => {
      logger.error(options.deadlineMessage ?? 'shutdown deadline passed, exiting');
      process.exit(1);
    }, options.timeoutMs).unref();
    options
      .stop()
      .then(() => {
        clearTimeout(deadline);
        logger.info('stopped');
      })
      .catch((error: unknown) => {
        logger.error('shutdown failed', errorFields(error));
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal('SIGTERM'));
  process.on('SIGINT', onSignal('SIGINT'));
}
