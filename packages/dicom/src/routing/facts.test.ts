/**
 * Series facts from real headers: pydicom's MR_small.dcm (a Toshiba MR image that labels itself
 * DERIVED\SECONDARY) and CT_small.dcm, plus our own synthetic MR instance.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPart10, routeStudy, seriesFactsFromHeader, seriesFactsFromRecords, buildTestMrInstance } from '@ldh/dicom';

function pydicomTestFiles(): string {
  const out = execFileSync('dpkg', ['-L', 'python3-pydicom'], { encoding: 'utf8' });
  const dir = out.split('\n').find((l) => l.endsWith('/test_files'));
  if (!dir) throw new Error('python3-pydicom test files not installed (apt-get install python3-pydicom)');
  return dir;
}

describe('seriesFactsFromHeader', () => {
  it('reads a third-party MR header (pydicom MR_small.dcm)', () => {
    const { dataset } = readPart10(readFileSync(path.join(pydicomTestFiles(), 'MR_small.dcm')), { headerOnly: true });
    const facts = seriesFactsFromHeader(dataset, { seriesInstanceUid: 'x', instanceCount: 1 });
    expect(facts).toMatchObject({
      modality: 'MR',
      seriesNumber: 1,
      sopClassUids: ['1.2.840.10008.5.1.4.1.1.4'],
      imageType: ['DERIVED', 'SECONDARY', 'OTHER'],
      repetitionTime: 4000,
      echoTime: 240,
      scanningSequence: ['SE'],
      sequenceVariant: ['NONE'],
      imageOrientationPatient: [1, 0, 0, 0, 1, 0],
      rows: 64,
      pixelSpacing: [0.3125, 0.3125],
      contrastBolusAgent: null,
      source: 'header',
    });
    // Its single image is an axial T2 that is still acquired data despite DERIVED\SECONDARY.
    const d = routeStudy([{ ...facts, bodyPartExamined: 'LSPINE' }], { minSlices: { sagittal: 1, axial: 1 } });
    expect(d.series[0]).toMatchObject({ plane: 'axial', weighting: 't2', role: 't2_ax', accepted: true });
  });

  it('reads a CT header as a non-MR series', () => {
    const { dataset } = readPart10(readFileSync(path.join(pydicomTestFiles(), 'CT_small.dcm')), { headerOnly: true });
    const facts = seriesFactsFromHeader(dataset, { seriesInstanceUid: 'ct', instanceCount: 1 });
    expect(facts.modality).toBe('CT');
    expect(routeStudy([facts])).toMatchObject({ kind: 'skip', reason: 'not an MR study (modalities: CT)' });
  });

  it('takes per-instance geometry from the instance rows, the rest from the header', () => {
    const { dataset } = readPart10(buildTestMrInstance(), { headerOnly: true });
    const positions = Array.from({ length: 9 }, (_, k) => [-16 + 4 * k, -100, 100]);
    const facts = seriesFactsFromHeader(dataset, { seriesInstanceUid: 's', instanceCount: 9, positions, orientations: positions.map(() => [0, 1, 0, 0, 0, -1]), sopClassUids: ['1.2.840.10008.5.1.4.1.1.4'] });
    expect(facts).toMatchObject({ seriesDescription: 'T2 SAG', bodyPartExamined: 'LSPINE', seriesNumber: 3, instanceCount: 9, positions });
    const fromRows = seriesFactsFromRecords({
      seriesInstanceUid: 's',
      modality: 'MR',
      seriesDescription: 'T2 SAG',
      seriesNumber: 3,
      instances: positions.map((p) => ({ sopClassUid: '1.2.840.10008.5.1.4.1.1.4', imagePositionPatient: p, imageOrientationPatient: [0, 1, 0, 0, 0, -1] })),
    });
    expect(fromRows).toMatchObject({ source: 'database', instanceCount: 9, sopClassUids: ['1.2.840.10008.5.1.4.1.1.4'], orientations: positions.map(() => [0, 1, 0, 0, 0, -1]) });
  });
});
