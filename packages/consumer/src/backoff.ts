/** How a failing handler is retried before its event is dead-lettered. */
export interface RetryPolicy {
  /** Tries in all, the first included. Default 5. */
  readonly maxAttempts?: number;
  /** Wait after the first failure; doubles after each further one. Default 200. */
  readonly initialDelayMs?: number;
  /** Cap of the wait. Default 10 000. */
  readonly maxDelayMs?: number;
}

export const RETRY_DEFAULTS = { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 10_000 } as const;

/**
 * The wait after the `failures`-th failure: `initialDelayMs × 2^(failures-1)`, capped, times a
 * random factor in [0.5, 1) so that consumers failing together do not retry in lockstep.
 */
export function retryDelayMs(policy: RetryPolicy, failures: number, random: () => number = Math.random): number {
  const initial = policy.initialDelayMs ?? RETRY_DEFAULTS.initialDelayMs;
  const max = policy.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs;
  const exponential = Math.min(max, initial * 2 ** Math.max(0, failures - 1));
  return Math.round(exponential * (0.5 + random() / 2));
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
