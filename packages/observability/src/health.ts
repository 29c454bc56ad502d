/**
 * A named readiness check; resolves when healthy (optionally with measurements to show in the
 * report), throws (with a reason) when not.
 */
export interface HealthCheck {
  name: string;
  check(): Promise<void | Record<string, unknown>>;
}

/** One check's result: ok, the reason when not, and whatever it measured. */
export type CheckResult = { ok: boolean; error?: string } & Record<string, unknown>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

/** A failed check that still reports what it measured (e.g. the lag that is too high). */
export class CheckFailure extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Runs every check in parallel, each bounded by `timeoutMs`, and reports them all. */
export async function runChecks(checks: readonly HealthCheck[], timeoutMs = 2_000): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (c): Promise<readonly [string, CheckResult]> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const details = await Promise.race([
          c.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs);
          }),
        ]);
        return [c.name, { ok: true, ...(details ?? {}) }];
      } catch (error) {
        const details = error instanceof CheckFailure ? error.details : {};
        return [c.name, { ok: false, error: (error as Error).message, ...details }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}
