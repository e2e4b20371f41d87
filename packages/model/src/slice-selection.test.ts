import { describe, expect, it } from 'vitest';
import { ModelInputError } from './errors.js';
import { centralIndices, selectSlices, slicePosition, spreadIndices, type SliceInstance, type SliceRole } from './slice-selection.js';

const contract = { sliceSelection: { sagittalCentralSlices: 3, axialMaxSlices: 15 } };
const SAG = [0, 1, 0, 0, 0, -1]; // normal = row × col = (−1, 0, 0)
const AX = [1, 0, 0, 0, 1, 0]; // normal = (0, 0, 1)

describe('selectSlices (ldh-input-v2, same as v1)', () => {
  it('takes the three central sagittal slices by position, not by instance number or order', () => {
    const xs = [5, -3, 1, 9, -7, 3, -1];
    const instances: SliceInstance[] = xs.map((x, i) => ({
      sopInstanceUid: `u${x}`,
      imagePositionPatient: [x, 0, 0],
      imageOrientationPatient: SAG,
      instanceNumber: i,
    }));
    expect(selectSlices([{ role: 't2_sag', instances }], contract)).toEqual({ t2_sag: ['u3', 'u1', 'u-1'] });
    expect(selectSlices([{ role: 't1_sag', instances: instances.slice(0, 4) }], contract)).toEqual({ t1_sag: ['u9', 'u5', 'u1'] });
  });

  it('spreads 15 axial slices over a longer stack, ends included (same indices as Python)', () => {
    expect(spreadIndices(20, 15)).toEqual([0, 1, 3, 4, 5, 7, 8, 10, 11, 12, 14, 15, 16, 18, 19]);
    expect(spreadIndices(10, 15)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const ax = Array.from({ length: 25 }, (_, k) => ({ sopInstanceUid: `a${k}`, imagePositionPatient: [0, 0, -5 * k], imageOrientationPatient: AX }));
    const got = selectSlices([{ role: 't2_ax', instances: ax }], contract).t2_ax ?? [];
    expect(got).toHaveLength(15);
    expect(got[0]).toBe('a24');
    expect(got[14]).toBe('a0');
  });

  it('breaks position ties by instance number, then UID; missing geometry falls back to them', () => {
    const inst = [
      { sopInstanceUid: 'b', instanceNumber: 2 },
      { sopInstanceUid: 'a', instanceNumber: 2 },
      { sopInstanceUid: 'c', instanceNumber: 1 },
    ];
    expect(selectSlices([{ role: 't2_ax', instances: inst }], contract).t2_ax).toEqual(['c', 'a', 'b']);
    expect(slicePosition(undefined, AX)).toBe(0);
  });

  it('concatenates several series of one role and handles short series', () => {
    const s = (p: string, n: number) => Array.from({ length: n }, (_, k) => ({ sopInstanceUid: `${p}${k}`, imagePositionPatient: [k, 0, 0], imageOrientationPatient: SAG }));
    const out = selectSlices(
      [
        { role: 't1_sag', instances: s('x', 2) },
        { role: 't1_sag', instances: s('y', 5) },
      ],
      contract,
    );
    expect(out.t1_sag).toEqual(['x1', 'x0', 'y3', 'y2', 'y1']);
    expect(centralIndices(0, 3)).toEqual([]);
  });

  it('rejects an unknown role', () => {
    expect(() => selectSlices([{ role: 'dwi' as SliceRole, instances: [] }], contract)).toThrow(ModelInputError);
  });
});
