import { describe, expect, it } from 'vitest';
import type { LevelScore } from '@ldh/model';
import type { SourceImageRef } from '@ldh/sr';
import { keyImages, levelResults, positiveLevelNames, storedLevels, summaryKey } from './report-levels.js';

const img = (uid: string, role: SourceImageRef['role'], probability: number, frameNumber?: number): SourceImageRef => ({
  sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
  sopInstanceUid: uid,
  seriesInstanceUid: `s-${role}`,
  role,
  probability,
  ...(frameNumber !== undefined ? { frameNumber } : {}),
});
const images = [img('sag', 't2_sag', 0.9), img('a1', 't2_ax', 0.7), img('a2', 't2_ax', 0.3), img('b1', 't2_ax', 0.2)];
const levels: LevelScore[] = [
  { level: 'L4-L5', probability: 0.5, decision: 'ldh', threshold: 0.4, sopInstanceUids: ['a1', 'a2'], keySopInstanceUid: 'a1', images: [{ sopInstanceUid: 'a1' }, { sopInstanceUid: 'a2' }] },
  { level: 'L5-S1', probability: 0.2, decision: 'healthy', threshold: 0.4, sopInstanceUids: ['b1'], keySopInstanceUid: 'b1', images: [{ sopInstanceUid: 'b1' }] },
];

describe('report-levels', () => {
  it('reads stored perLevel defensively (null for runs from before per-level scoring)', () => {
    expect(storedLevels(null)).toEqual([]);
    expect(storedLevels([{ level: 'L9-L10', probability: 1, decision: 'ldh', sopInstanceUids: [] }, ...levels])).toEqual(levels);
  });

  it('maps levels to SR groups with their own sources, key image, threshold and decision', () => {
    expect(levelResults(levels, images)).toEqual([
      { level: 'L4-L5', probability: 0.5, decision: 'ldh', threshold: 0.4, sourceSopInstanceUid: 'a1', sources: [{ sopInstanceUid: 'a1' }, { sopInstanceUid: 'a2' }] },
      { level: 'L5-S1', probability: 0.2, decision: 'healthy', threshold: 0.4, sourceSopInstanceUid: 'b1', sources: [{ sopInstanceUid: 'b1' }] },
    ]);
  });

  it('keeps frames of a multi-frame apart by level', () => {
    const mf = [img('mf', 't2_ax', 0.4, 1), img('mf', 't2_ax', 0.6, 2)];
    const l: LevelScore = { level: 'L4-L5', probability: 0.6, decision: 'ldh', sopInstanceUids: ['mf'], keySopInstanceUid: 'mf', keyFrameNumber: 2, images: [{ sopInstanceUid: 'mf', frameNumber: 2 }] };
    expect(levelResults([l], mf)[0]).toMatchObject({ sourceSopInstanceUid: 'mf', sourceFrameNumber: 2, sources: [{ sopInstanceUid: 'mf', frameNumber: 2 }] });
  });

  it('KOS: key images of positive levels for a positive study; top three when no level is positive; none for a negative study', () => {
    expect(keyImages(levels, images, true).map((i) => i.sopInstanceUid)).toEqual(['a1']);
    expect(keyImages([levels[1]!], images, true).map((i) => i.sopInstanceUid)).toEqual(['sag', 'a1', 'a2']);
    expect(keyImages(levels, images, false)).toEqual([]);
    expect(positiveLevelNames(levels)).toBe('L4-L5');
  });

  it('summary: the key image of the most suspicious level, else the top image', () => {
    expect(summaryKey(levels, images)).toMatchObject({ level: { level: 'L4-L5' }, image: { sopInstanceUid: 'a1' } });
    expect(summaryKey([], images)).toEqual({ image: images[0] });
  });
});
