import { describe, expect, it } from 'vitest';
import { planeFromOrientation, routeStudy, weightingOf, type SeriesFacts } from '@ldh/dicom';

const SAG = [0, 1, 0, 0, 0, -1];
const AX = [1, 0, 0, 0, 1, 0];
const COR = [1, 0, 0, 0, 0, -1];

function s(uid: string, desc: string, iop: number[], extra: Partial<SeriesFacts> = {}): SeriesFacts {
  return { seriesInstanceUid: uid, modality: 'MR', seriesDescription: desc, bodyPartExamined: 'LSPINE', instanceCount: 12, imageOrientationPatient: iop, ...extra };
}

describe('routing', () => {
  it('finds planes from orientation', () => {
    expect(planeFromOrientation(SAG)).toBe('sagittal');
    expect(planeFromOrientation(AX)).toBe('axial');
    expect(planeFromOrientation(COR)).toBe('coronal');
    expect(planeFromOrientation([0.7, 0.7, 0, 0, 0, -1])).toBe('oblique');
    expect(planeFromOrientation(undefined)).toBe('oblique');
  });
  it('reads weighting from description, then TR/TE', () => {
    expect(weightingOf({ seriesDescription: 'T1_TSE_SAG' })).toBe('t1');
    expect(weightingOf({ seriesDescription: 'sag t2 tse' })).toBe('t2');
    expect(weightingOf({ seriesDescription: 'T2 STIR SAG' })).toBe('other');
    expect(weightingOf({ seriesDescription: 'SAG', repetitionTime: 550, echoTime: 10 })).toBe('t1');
    expect(weightingOf({ seriesDescription: 'SAG', repetitionTime: 3500, echoTime: 100 })).toBe('t2');
  });
  it('routes a lumbar MRI with all three series, preferring the latest repeat', () => {
    const d = routeStudy([
      s('1', 'T1_TSE_SAG', SAG, { seriesNumber: 2 }),
      s('2', 'T2_TSE_SAG', SAG, { seriesNumber: 3 }),
      s('3', 'T2_TSE_TRA', AX, { seriesNumber: 4 }),
      s('4', 'T2_TSE_SAG repeat', SAG, { seriesNumber: 7 }),
      s('5', 'localizer', COR),
    ]);
    expect(d.kind).toBe('route');
    if (d.kind === 'route') expect(d.roles).toEqual({ t1_sag: '1', t2_sag: '4', t2_ax: '3' });
  });
  it('skips with a reason', () => {
    expect(routeStudy([s('1', 'T1', SAG, { modality: 'CT' })])).toMatchObject({ kind: 'skip', reason: expect.stringContaining('not an MR') });
    expect(routeStudy([s('1', 'T1_SAG', SAG, { bodyPartExamined: 'BRAIN' })])).toMatchObject({ kind: 'skip', reason: expect.stringContaining('not a lumbar') });
    expect(routeStudy([s('1', 'T1_SAG', SAG), s('2', 'T2_SAG', SAG)])).toMatchObject({ kind: 'skip', reason: 'missing series: t2_ax' });
  });
});
