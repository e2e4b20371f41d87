import { describe, expect, it } from 'vitest';
import { nums, readPart10 } from '@ldh/dicom';
import { generateStudy } from '@ldh/phantom';
import { ModelInputError } from './errors.js';
import { levelRule, mostSuspiciousLevel, scoreLevels, type PlacedImageScore } from './per-level.js';

const AX = [1, 0, 0, 0, 1, 0];
/** Axial image at height z (corner IPP; no pixel spacing, so the corner is the position). */
const ax = (uid: string, z: number, probability: number, frameNumber?: number): PlacedImageScore => ({
  sopInstanceUid: uid,
  ...(frameNumber !== undefined ? { frameNumber } : {}),
  imagePositionPatient: [0, 0, z],
  imageOrientationPatient: AX,
  probability,
});
const mean = { aggregation: { method: 'mean' as const, chosenOn: 'test' }, threshold: 0.5 };

describe('scoreLevels', () => {
  const images = [ax('s1', 0, 0.2), ax('s2', 4, 0.4), ax('m1', 38, 0.9), ax('m2', 42, 0.7), ax('c1', 76, 0.1)];

  it('aggregates the axial images of each level, thresholds them and names the key image', () => {
    const got = scoreLevels(images, mean);
    expect(got.map((l) => l.level)).toEqual(['L3-L4', 'L4-L5', 'L5-S1']);
    const l45 = got[1]!;
    expect(l45.probability).toBeCloseTo(0.8, 12);
    expect(l45).toMatchObject({ decision: 'ldh', threshold: 0.5, sopInstanceUids: ['m1', 'm2'], keySopInstanceUid: 'm1' });
    expect(got[2]).toMatchObject({ level: 'L5-S1', decision: 'healthy', sopInstanceUids: ['s1', 's2'], keySopInstanceUid: 's2' });
    expect(got[2]!.probability).toBeCloseTo(0.3, 12);
  });

  it('uses the rule it is given: max and top-k mean', () => {
    const max = scoreLevels(images, { aggregation: { method: 'max', chosenOn: 't' }, threshold: 0.35 });
    expect(max.find((l) => l.level === 'L5-S1')).toMatchObject({ probability: 0.4, decision: 'ldh' });
    const top1 = scoreLevels(images, { aggregation: { method: 'topk-mean', k: 1, chosenOn: 't' }, threshold: 0.5 });
    expect(top1.find((l) => l.level === 'L4-L5')?.probability).toBe(0.9);
  });

  it('keeps frames of one multi-frame instance apart and names the key frame', () => {
    const got = scoreLevels([ax('mf', 0, 0.3, 1), ax('mf', 4, 0.6, 2), ax('mf', 38, 0.2, 3)], mean);
    expect(got.find((l) => l.level === 'L5-S1')).toMatchObject({ keySopInstanceUid: 'mf', keyFrameNumber: 2, images: [{ sopInstanceUid: 'mf', frameNumber: 1 }, { sopInstanceUid: 'mf', frameNumber: 2 }] });
    expect(got.find((l) => l.level === 'L4-L5')?.sopInstanceUids).toEqual(['mf']);
  });

  it('scores no level when no image can be placed, and refuses bad probabilities and thresholds', () => {
    expect(scoreLevels([{ sopInstanceUid: 'x', probability: 0.5 }], mean)).toEqual([]);
    expect(scoreLevels([], mean)).toEqual([]);
    expect(() => scoreLevels([ax('a', 0, 1.5)], mean)).toThrow(ModelInputError);
    expect(() => scoreLevels(images, { ...mean, threshold: 1 })).toThrow(/threshold must be in \(0,1\)/);
  });

  it('takes the card perLevel rule when present, else the study rule', () => {
    const study = { aggregation: { method: 'mean' as const, chosenOn: 'x' }, threshold: 0.4 };
    expect(levelRule(study)).toEqual(study);
    const perLevel = { aggregation: { method: 'max' as const, chosenOn: 'y' }, threshold: 0.6 };
    expect(levelRule({ ...study, perLevel })).toEqual(perLevel);
  });

  it('mostSuspiciousLevel: highest probability, the more caudal on a tie', () => {
    expect(mostSuspiciousLevel([])).toBeUndefined();
    expect(mostSuspiciousLevel([{ level: 'L3-L4', probability: 0.5 }, { level: 'L5-S1', probability: 0.5 }, { level: 'L4-L5', probability: 0.2 }])?.level).toBe('L5-S1');
    expect(mostSuspiciousLevel([{ level: 'L3-L4', probability: 0.7 }, { level: 'L5-S1', probability: 0.5 }])?.level).toBe('L3-L4');
  });
});

describe('slice-to-level assignment on phantom studies (truth: the stack each axial slice was planned in)', () => {
  it.each([
    [11, 'generic'],
    [12, 'generic'],
    [13, 'siemens'],
    [14, 'ge'],
  ] as const)('seed %i (%s): every axial slice gets its own disc level', (seed, profile) => {
    const study = generateStudy({ seed, matrix: 64, profile });
    const axial = study.instances.filter((i) => i.role === 't2_ax' && i.frames === 1);
    expect(axial.length).toBeGreaterThanOrEqual(9);
    const placed = axial.map((inst) => {
      const ds = readPart10(inst.bytes, { headerOnly: true }).dataset;
      return {
        sopInstanceUid: inst.sopInstanceUid,
        imagePositionPatient: nums(ds, 'ImagePositionPatient'),
        imageOrientationPatient: nums(ds, 'ImageOrientationPatient'),
        rows: Number(ds.Rows),
        columns: Number(ds.Columns),
        pixelSpacing: nums(ds, 'PixelSpacing'),
        probability: 0.5,
      };
    });
    const levels = scoreLevels(placed, mean);
    const assigned = new Map(levels.flatMap((l) => l.sopInstanceUids.map((u) => [u, l.level] as const)));
    for (const inst of axial) expect(assigned.get(inst.sopInstanceUid)).toBe(inst.level);
  });
});
