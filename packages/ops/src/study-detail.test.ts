import { describe, expect, it } from 'vitest';
import { buildTimeline } from './study-detail.js';

type Event = Parameters<typeof buildTimeline>[0][number];
let seq = 0n;
const ev = (at: string, action: string, details: Record<string, unknown> = {}, entityType = 'study', actor = 'worker'): Event => ({
  id: ++seq,
  at: new Date(at),
  entityType,
  entityId: 'x',
  action,
  actor,
  studyInstanceUid: '1.2.3',
  details: details as Event['details'],
});

describe('buildTimeline', () => {
  it('orders the states with durations, merges a repeated state, ignores non-state events and runs the current state up to now', () => {
    const events = [
      ev('2026-01-01T00:00:00.000Z', 'study.receiving', { callingAeTitle: 'MOD' }, 'study', 'scp'),
      ev('2026-01-01T00:00:15.000Z', 'study.settled', { from: 'receiving', to: 'settled', revision: 0 }),
      ev('2026-01-01T00:00:16.000Z', 'inference.started', {}, 'inference'),
      ev('2026-01-01T00:00:17.500Z', 'study.delivery_failed', { from: 'delivering', to: 'delivery_failed', reason: 'dead' }),
      ev('2026-01-01T00:01:00.000Z', 'study.delivering', { from: 'delivery_failed', to: 'delivering' }, 'study', 'alice'),
      ev('2026-01-01T00:01:00.000Z', 'study.retried', { from: 'delivery_failed', to: 'delivering', stage: 'delivery' }, 'study', 'alice'),
    ];
    const t = buildTimeline(events, { state: 'delivering', firstInstanceAt: new Date('2026-01-01T00:00:00.000Z') }, new Date('2026-01-01T00:02:30.000Z'));
    expect(t.map((e) => [e.state, e.durationMs, e.current, e.actor])).toEqual([
      ['receiving', 15_000, false, 'scp'],
      ['settled', 2_500, false, 'worker'],
      ['delivery_failed', 42_500, false, 'worker'],
      ['delivering', 90_000, true, 'alice'],
    ]);
    expect(t[2]!.reason).toBe('dead');
    expect(t[1]!.revision).toBe(0);
    expect(t[3]!.leftAt).toBeNull();
  });

  it('starts with receiving at the first instance when the trail has no receiving event', () => {
    const t = buildTimeline([ev('2026-01-01T00:00:20.000Z', 'study.settled', { to: 'settled' })], { state: 'settled', firstInstanceAt: new Date('2026-01-01T00:00:00.000Z') }, new Date('2026-01-01T00:00:30.000Z'));
    expect(t.map((e) => [e.state, e.durationMs])).toEqual([
      ['receiving', 20_000],
      ['settled', 10_000],
    ]);
  });
});
