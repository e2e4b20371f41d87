import { describe, expect, it } from 'vitest';
import { levelFindings } from './worklist-input.js';

describe('levelFindings (InferenceRun.perLevel → worklist levels)', () => {
  it('orders levels cranial to caudal, reads the decision (string or boolean) or falls back to the threshold', () => {
    const levels = levelFindings(
      [
        { level: 'L5-S1', probability: 0.64, decision: 'ldh', sopInstanceUids: ['2.25.1'] },
        { level: 'L4-L5', probability: 0.91, decision: true },
        { level: 'L3-L4', probability: 0.7 },
        { level: 'L2-L3', probability: 0.2, decision: 'healthy' },
      ],
      0.5,
    );
    expect(levels).toEqual([
      { level: 'L2-L3', probability: 0.2, positive: false },
      { level: 'L3-L4', probability: 0.7, positive: true },
      { level: 'L4-L5', probability: 0.91, positive: true },
      { level: 'L5-S1', probability: 0.64, positive: true, sopInstanceUids: ['2.25.1'] },
    ]);
  });

  it('ignores malformed entries; no usable entry (or no column) = no per-level results', () => {
    expect(levelFindings([{ level: 'T12-L1', probability: 0.5 }, { level: 'L4-L5', probability: 1.5 }, null], 0.5)).toBeUndefined();
    expect(levelFindings(undefined, 0.5)).toBeUndefined();
    expect(levelFindings([{ level: 'L4-L5', probability: 0.3, decision: 'absent' }, 'x'], 0.5)).toEqual([{ level: 'L4-L5', probability: 0.3, positive: false }]);
  });
});
