import { describe, expect, it } from 'vitest';
import { ModelInputError } from './errors.js';
import { centralIndices, selectFrames, selectSlices, slicePosition, spreadIndices, type SliceInstance, type SliceRole } from './slice-selection.js';

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

describe('selectFrames: multi-frame instances (Enhanced MR) select among their frames', () => {
  /** One Enhanced MR instance whose frames are stored in scrambled order along x. */
  const xs = [5, -3, 1, 9, -7, 3, -1];
  const enhanced: SliceInstance = {
    sopInstanceUid: 'e1',
    instanceNumber: 1,
    numberOfFrames: xs.length,
    imagePositionPatient: [5, 0, 0], // frame 1's, as ingest stores it: must not be used for the frames
    imageOrientationPatient: SAG,
    frames: xs.map((x, k) => ({ frameNumber: k + 1, imagePositionPatient: [x, 0, 0], imageOrientationPatient: SAG })),
  };

  it('takes the central sagittal frames by their own positions and names the frame numbers', () => {
    expect(selectFrames([{ role: 't2_sag', instances: [enhanced] }], contract)).toEqual({
      t2_sag: [
        { sopInstanceUid: 'e1', frameNumber: 6 },
        { sopInstanceUid: 'e1', frameNumber: 3 },
        { sopInstanceUid: 'e1', frameNumber: 7 },
      ],
    });
  });

  it('picks the same positions from frames as from the equivalent single-frame series', () => {
    const ax = (k: number) => [0, 0, -5 * k];
    const single = Array.from({ length: 25 }, (_, k) => ({ sopInstanceUid: `a${k}`, imagePositionPatient: ax(k), imageOrientationPatient: AX }));
    const multi: SliceInstance = { sopInstanceUid: 'm', numberOfFrames: 25, frames: Array.from({ length: 25 }, (_, k) => ({ frameNumber: k + 1, imagePositionPatient: ax(k), imageOrientationPatient: AX })) };
    const bySingle = selectSlices([{ role: 't2_ax', instances: single }], contract).t2_ax ?? [];
    const byFrames = selectFrames([{ role: 't2_ax', instances: [multi] }], contract).t2_ax ?? [];
    expect(byFrames.map((c) => `a${(c.frameNumber as number) - 1}`)).toEqual(bySingle);
  });

  it('mixes multi-frame and single-frame instances of one series; ties fall to UID, then frame number', () => {
    const pair: SliceInstance = { sopInstanceUid: 'p', numberOfFrames: 2, frames: [1, 2].map((n) => ({ frameNumber: n, imagePositionPatient: [0, 0, 0], imageOrientationPatient: AX })) };
    const one: SliceInstance = { sopInstanceUid: 'o', imagePositionPatient: [0, 0, 0], imageOrientationPatient: AX };
    expect(selectFrames([{ role: 't2_ax', instances: [pair, one] }], contract).t2_ax).toEqual([{ sopInstanceUid: 'o' }, { sopInstanceUid: 'p', frameNumber: 1 }, { sopInstanceUid: 'p', frameNumber: 2 }]);
  });

  it('gives a one-frame Enhanced MR its frame number, and single-frame images none', () => {
    const oneFrame: SliceInstance = { sopInstanceUid: 'f', numberOfFrames: 1, frames: [{ frameNumber: 1, imagePositionPatient: [0, 0, 0], imageOrientationPatient: AX }] };
    expect(selectFrames([{ role: 't2_ax', instances: [oneFrame, { sopInstanceUid: 'g', numberOfFrames: 1 }] }], contract).t2_ax).toEqual([
      { sopInstanceUid: 'f', frameNumber: 1 },
      { sopInstanceUid: 'g' },
    ]);
  });

  it('refuses a multi-frame without per-frame geometry, naming it and the ingest reason', () => {
    const bare: SliceInstance = { sopInstanceUid: 'x', numberOfFrames: 4, frameGeometryError: 'PerFrameFunctionalGroupsSequence (5200,9230) has 3 items for 4 frames' };
    expect(() => selectFrames([{ role: 't2_ax', instances: [bare] }], contract)).toThrow(ModelInputError);
    expect(() => selectFrames([{ role: 't2_ax', instances: [bare] }], contract)).toThrow(
      'x: multi-frame image (4 frames) without per-frame geometry: PerFrameFunctionalGroupsSequence (5200,9230) has 3 items for 4 frames',
    );
    expect(() => selectFrames([{ role: 't2_ax', instances: [{ sopInstanceUid: 'y', numberOfFrames: 3 }] }], contract)).toThrow(/y: multi-frame image \(3 frames\) without per-frame geometry$/);
  });

  it('selectSlices (UIDs only) refuses a chosen frame instead of repeating a UID', () => {
    expect(() => selectSlices([{ role: 't2_sag', instances: [enhanced] }], contract)).toThrow(/e1: a frame of a multi-frame image was chosen; use selectFrames/);
  });
});
