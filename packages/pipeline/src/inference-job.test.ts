import { describe, expect, it } from 'vitest';
import { StoredFramesError } from '@ldh/db';
import { ModelInputError } from '@ldh/model';
import { chooseImages, inferenceIdempotencyKey, selectedInputId } from './inference-job.js';

const SAG = [0, 1, 0, 0, 0, -1];
const AX = [1, 0, 0, 0, 1, 0];
const model = { card: { input: { sliceSelection: { sagittalCentralSlices: 3, axialMaxSlices: 15 } } } } as unknown as Parameters<typeof chooseImages>[1];

/** Instance rows as loadStudyForProcessing returns them (only the fields selection reads). */
function row(sop: string, extra: Record<string, unknown> = {}) {
  return { sopInstanceUid: sop, sha256: `sha-${sop}`, storageKey: `k/${sop}`, sopClassUid: '1.2.840.10008.5.1.4.1.1.4', instanceNumber: 1, imagePositionPatient: [], imageOrientationPatient: [], numberOfFrames: null, frames: null, frameGeometryError: null, ...extra };
}
const series = (role: string, uid: string, instances: unknown[]) => ({ role, seriesInstanceUid: uid, instances }) as unknown as Parameters<typeof chooseImages>[0][number];

describe('inference slice list: frames of Enhanced MR instances', () => {
  const sagFrames = [5, -3, 1, 9, -7].map((x, k) => ({ frameNumber: k + 1, imagePositionPatient: [x, 0, 0], imageOrientationPatient: SAG }));
  const enhancedSag = row('emr', { sopClassUid: '1.2.840.10008.5.1.4.1.1.4.1', numberOfFrames: 5, frames: sagFrames, imagePositionPatient: [5, 0, 0], imageOrientationPatient: SAG });
  const classicAx = [0, 1, 2].map((k) => row(`ax${k}`, { instanceNumber: k + 1, imagePositionPatient: [0, 0, -k], imageOrientationPatient: AX }));

  it('chooses frames (with their facts) from a multi-frame and instances from classic series', () => {
    const chosen = chooseImages([series('t2_sag', 's1', [enhancedSag]), series('t2_ax', 's2', classicAx)], model);
    expect(chosen.map((c) => [c.sopInstanceUid, c.frame?.frameNumber, c.role])).toEqual([
      ['emr', 1, 't2_sag'], // x = 5, 1, -3 are the central three along the sagittal normal
      ['emr', 3, 't2_sag'],
      ['emr', 2, 't2_sag'],
      ['ax2', undefined, 't2_ax'],
      ['ax1', undefined, 't2_ax'],
      ['ax0', undefined, 't2_ax'],
    ]);
    expect(chosen[0]?.frame).toEqual(sagFrames[0]);
  });

  it('keys the idempotency input by frame, leaving single-frame keys as they were', () => {
    const chosen = chooseImages([series('t2_sag', 's1', [enhancedSag]), series('t2_ax', 's2', classicAx)], model);
    expect(chosen.map(selectedInputId)).toEqual(['sha-emr#1', 'sha-emr#3', 'sha-emr#2', 'sha-ax2', 'sha-ax1', 'sha-ax0']);
    const classicOnly = chooseImages([series('t2_ax', 's2', classicAx)], model);
    const m = { name: 'm', version: '1', sha256: 'x' };
    expect(inferenceIdempotencyKey('1.2.3', classicOnly.map(selectedInputId), m)).toEqual(inferenceIdempotencyKey('1.2.3', classicOnly.map((c) => c.sha256), m));
  });

  it('names the instance when a multi-frame has no usable frames', () => {
    const broken = row('bad', { numberOfFrames: 4, frameGeometryError: 'PerFrameFunctionalGroupsSequence (5200,9230) has 3 items for 4 frames' });
    expect(() => chooseImages([series('t2_sag', 's1', [broken])], model)).toThrow(ModelInputError);
    expect(() => chooseImages([series('t2_sag', 's1', [broken])], model)).toThrow(/bad: multi-frame image \(4 frames\) without per-frame geometry: PerFrame/);
    expect(() => chooseImages([series('t2_sag', 's1', [row('odd', { numberOfFrames: 2, frames: { not: 'an array' } })])], model)).toThrow(StoredFramesError);
  });
});
