import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, backoffDelayMs, backoffSchedule, DEFAULT_BACKOFF, nextRetry } from './delivery-backoff.js';

describe('delivery backoff', () => {
  it('grows from the base to the ceiling with full jitter', () => {
    expect([1, 2, 3, 10, 11, 12, 500].map((n) => backoffCeilingMs(n, DEFAULT_BACKOFF))).toEqual([5_000, 10_000, 20_000, 2_560_000, 3_600_000, 3_600_000, 3_600_000]);
    expect(backoffDelayMs(4, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelayMs(4, DEFAULT_BACKOFF, () => 0.999999)).toBe(39_999);
  });

  it('never schedules past the give-up time and gives up once it has passed', () => {
    const first = new Date('2026-01-01T00:00:00Z');
    const cfg = { baseMs: 1_000, maxMs: 3_600_000, giveUpAfterMs: 10_000 };
    expect(nextRetry({ failures: 20, firstAttemptAt: first, now: new Date(first.getTime() + 9_000) }, cfg, () => 0.9)).toEqual({ giveUp: false, nextAttemptAt: new Date(first.getTime() + 10_000) });
    expect(nextRetry({ failures: 2, firstAttemptAt: first, now: new Date(first.getTime() + 10_000) }, cfg)).toEqual({ giveUp: true });
  });

  it('the default schedule reaches 72 h', () => {
    const { steps } = backoffSchedule(DEFAULT_BACKOFF);
    expect(steps[0]).toEqual({ attempt: 1, minDelayMs: 0, maxDelayMs: 0, expectedElapsedMs: 0, latestElapsedMs: 0 });
    expect(steps[1]!.maxDelayMs).toBe(5_000);
    expect(steps.at(-1)!.expectedElapsedMs).toBe(72 * 3_600_000);
    expect(steps.at(-1)!.maxDelayMs).toBe(3_600_000);
  });
});
