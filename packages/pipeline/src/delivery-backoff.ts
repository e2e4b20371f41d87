/**
 * Delivery retry timing: exponential backoff with full jitter (each delay uniform in
 * [0, min(max, base·2^(n−1))]), from seconds to hours, until the give-up time measured from the
 * delivery's first attempt; the last retry is scheduled at the give-up time itself.
 */
export interface BackoffConfig {
  baseMs: number;
  maxMs: number;
  giveUpAfterMs: number;
}

/** Defaults: 5 s base, 1 h ceiling, give up after 72 h. */
export const DEFAULT_BACKOFF: BackoffConfig = { baseMs: 5_000, maxMs: 3_600_000, giveUpAfterMs: 72 * 3_600_000 };

/** The jitter ceiling after the `failures`-th consecutive failure (1-based). */
export function backoffCeilingMs(failures: number, cfg: BackoffConfig): number {
  const exp = cfg.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 40);
  return Math.min(cfg.maxMs, exp);
}

/** The delay before the next attempt after `failures` failures (`random` in [0, 1)). */
export function backoffDelayMs(failures: number, cfg: BackoffConfig, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeilingMs(failures, cfg));
}

/**
 * What to do after a transient failure: retry at `nextAttemptAt` (never later than the give-up
 * time), or give up when the give-up time has passed.
 */
export function nextRetry(args: { failures: number; firstAttemptAt: Date; now: Date }, cfg: BackoffConfig, random: () => number = Math.random): { giveUp: true } | { giveUp: false; nextAttemptAt: Date } {
  const deadline = args.firstAttemptAt.getTime() + cfg.giveUpAfterMs;
  if (args.now.getTime() >= deadline) return { giveUp: true };
  const at = Math.min(args.now.getTime() + backoffDelayMs(args.failures, cfg, random), deadline);
  return { giveUp: false, nextAttemptAt: new Date(at) };
}

export interface BackoffStep {
  attempt: number;
  /** Jitter bounds of the delay before this attempt (ms). */
  minDelayMs: number;
  maxDelayMs: number;
  /** Elapsed time since the first attempt when this attempt starts: expected (mean) and latest. */
  expectedElapsedMs: number;
  latestElapsedMs: number;
}

/**
 * The retry schedule as configured: attempt 1 is the first send (delay 0); each later attempt's
 * delay bounds, until the expected elapsed time reaches the give-up time (the final attempt).
 */
export function backoffSchedule(cfg: BackoffConfig): { steps: BackoffStep[]; giveUpAfterMs: number } {
  const steps: BackoffStep[] = [{ attempt: 1, minDelayMs: 0, maxDelayMs: 0, expectedElapsedMs: 0, latestElapsedMs: 0 }];
  let expected = 0;
  let latest = 0;
  for (let failures = 1; expected < cfg.giveUpAfterMs && failures < 100_000; failures++) {
    const ceiling = backoffCeilingMs(failures, cfg);
    expected = Math.min(expected + ceiling / 2, cfg.giveUpAfterMs);
    latest = Math.min(latest + ceiling, cfg.giveUpAfterMs);
    steps.push({ attempt: failures + 1, minDelayMs: 0, maxDelayMs: ceiling, expectedElapsedMs: expected, latestElapsedMs: latest });
  }
  return { steps, giveUpAfterMs: cfg.giveUpAfterMs };
}
