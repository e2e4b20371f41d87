import { describe, expect, it } from 'vitest';
import { buildMeasurementReport, describeReport, keyObjectSelectionDataset, measurementReportDataset, SrInputError } from '@ldh/sr';
import { childByCode, childLines, kids, line } from './testing/tree.js';
import { sampleEnhancedImages, sampleKeyObjectInput, sampleReportInput } from './testing/sample-input.js';

const images = sampleEnhancedImages();
const [t1, f7, f8, ax] = images.map((i) => i.sopInstanceUid) as [string, string, string, string];

type Evidence = { ReferencedSeriesSequence: { ReferencedSOPSequence: { ReferencedSOPInstanceUID: string; ReferencedFrameNumber?: unknown }[] }[] }[];
const evidenceUids = (ds: Record<string, unknown>): string[] =>
  (ds.CurrentRequestedProcedureEvidenceSequence as Evidence)[0]!.ReferencedSeriesSequence.flatMap((s) => s.ReferencedSOPSequence.map((r) => r.ReferencedSOPInstanceUID));

describe('SR references to frames of multi-frame images (Enhanced MR)', () => {
  const input = sampleReportInput({ images, levels: [{ level: 'L4-L5', probability: 0.9, sourceSopInstanceUid: f8, sourceFrameNumber: 8 }] });
  const ds = measurementReportDataset(input);

  it('writes Referenced Frame Number in each Image Library entry (single-frame images get none)', () => {
    const group = childByCode(childByCode(ds, '111028'), '126200');
    expect(childLines(group)).toEqual([
      'HAS ACQ CONTEXT CODE DCM:121139 = DCM:MR',
      `CONTAINS IMAGE SCT:260753009 = ${t1}`,
      `CONTAINS IMAGE SCT:260753009 = ${f7}#7`,
      `CONTAINS IMAGE SCT:260753009 = ${f8}#8`,
      `CONTAINS IMAGE SCT:260753009 = ${ax}#12`,
    ]);
    const entry = kids(group)[2] as { ReferencedSOPSequence: Record<string, unknown>[] };
    expect(entry.ReferencedSOPSequence).toEqual([{ ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.4.1', ReferencedSOPInstanceUID: f7, ReferencedFrameNumber: 7 }]);
  });

  it('gives each per-image NUM the frame it was computed from, and a level its source frame', () => {
    const groups = kids(childByCode(ds, '126010'));
    const study = groups[0]!;
    const perImage = kids(study).filter((c) => c.ValueType === 'NUM').slice(1);
    expect(perImage.map((n) => kids(n).map(line))).toEqual([
      [`INFERRED FROM IMAGE DCM:121112 = ${t1}`],
      [`INFERRED FROM IMAGE DCM:121112 = ${f7}#7`],
      [`INFERRED FROM IMAGE DCM:121112 = ${f8}#8`],
      [`INFERRED FROM IMAGE DCM:121112 = ${ax}#12`],
    ]);
    const level = groups[1]!;
    expect(kids(level).filter((c) => c.ValueType === 'IMAGE').map(line)).toEqual([`CONTAINS IMAGE DCM:121112 = ${f8}#8`]);
  });

  it('lists each instance once in the evidence, whatever frames are referenced', () => {
    expect(evidenceUids(ds)).toEqual([t1, f7, ax]);
  });

  it('counts frames as images when read back', () => {
    expect(describeReport(buildMeasurementReport(input)).imageCount).toBe(4);
  });

  it('refuses the same frame twice, a frame number below 1, and a level frame not in the report', () => {
    expect(() => measurementReportDataset(sampleReportInput({ images: [...images, { ...images[1]! }], levels: [] }))).toThrow(/images\[4\]\.sopInstanceUid: duplicate image .* frame 7/);
    expect(() => measurementReportDataset(sampleReportInput({ images: [{ ...images[1]!, frameNumber: 0 }], levels: [] }))).toThrow(SrInputError);
    expect(() => measurementReportDataset(sampleReportInput({ images: [{ ...images[1]!, frameNumber: 1.5 }], levels: [] }))).toThrow(/images\[0\]\.frameNumber: must be a 1-based frame number/);
    expect(() => measurementReportDataset(sampleReportInput({ images, levels: [{ level: 'L4-L5', probability: 0.5, sourceSopInstanceUid: f7, sourceFrameNumber: 9 }] }))).toThrow(
      /levels\[0\]\.sourceFrameNumber: frame 9 of .* is not one of the report's images/,
    );
  });
});

describe('KOS references to frames', () => {
  it('puts the key frames of one instance in one item (ascending), once in the evidence', () => {
    const ds = keyObjectSelectionDataset(sampleKeyObjectInput({ images: [images[2]!, images[3]!, images[1]!, images[0]!] }));
    expect(childLines(ds).filter((l) => l.includes('IMAGE'))).toEqual([`CONTAINS IMAGE - = ${f8}#7,8`, `CONTAINS IMAGE - = ${ax}#12`, `CONTAINS IMAGE - = ${t1}`]);
    expect(evidenceUids(ds)).toEqual([f8, ax, t1]);
  });
});
