import { describe, expect, it } from 'vitest';
import { buildMeasurementReport, measurementReportDataset, SrInputError, type MeasurementReportInput } from '@ldh/sr';
import { childByCode, childLines, kids, line } from './testing/tree.js';
import { sampleAlgorithm, sampleImages, sampleReportInput, STUDY_UID } from './testing/sample-input.js';

const images = sampleImages();
const img = (i: number): string => images[i]?.sopInstanceUid ?? '';
const ALL = [0, 1, 2, 3];

/** Lines of the images, as they appear under the given relationship and concept. */
const imageLines = (rel: string, code: string, which: number[]): string[] =>
  which.map((i) => `${rel} IMAGE ${code} = ${img(i)}`);

describe('TID 1500 tree', () => {
  const input = sampleReportInput();
  const ds = measurementReportDataset(input);

  it('has the titled root with DCMR 1500 and the children in template order', () => {
    expect(line(ds)).toBe('ROOT CONTAINER DCM:126000 [TID 1500]');
    expect(ds.ContinuityOfContent).toBe('SEPARATE');
    expect(ds.ContentTemplateSequence).toEqual([
      { MappingResource: 'DCMR', MappingResourceUID: '1.2.840.10008.8.1.1', TemplateIdentifier: '1500' },
    ]);
    expect(childLines(ds)).toEqual([
      'HAS CONCEPT MOD CODE DCM:121049 = RFC5646:en-US',
      'HAS OBS CONTEXT CODE DCM:121005 = DCM:121007',
      `HAS OBS CONTEXT UIDREF DCM:121012 = ${input.algorithm.deviceObserverUid}`,
      'HAS OBS CONTEXT TEXT DCM:121013 = "LDH-DualAttention"',
      'HAS OBS CONTEXT TEXT DCM:121014 = "LDH Triage Project"',
      'HAS OBS CONTEXT TEXT DCM:121015 = "SE-CBAM ResNeXt-50"',
      'HAS CONCEPT MOD CODE DCM:121058 = SCT:363679005',
      'CONTAINS CONTAINER DCM:111028',
      'CONTAINS CONTAINER DCM:126010',
    ]);
  });

  it('lists every image once in the Image Library, with MR modality and frame of reference', () => {
    const group = childByCode(childByCode(ds, '111028'), '126200');
    expect(childLines(group)).toEqual(['HAS ACQ CONTEXT CODE DCM:121139 = DCM:MR', ...imageLines('CONTAINS', 'SCT:260753009', ALL)]);
    const first = kids(group)[1];
    expect(kids(first).map(line)).toEqual([`HAS ACQ CONTEXT UIDREF DCM:112227 = ${images[0]?.frameOfReferenceUid}`]);
  });

  it('builds the study group: tracking, finding, site, algorithm, study NUM, per-image NUMs, sources, decision', () => {
    const measurements = childByCode(ds, '126010');
    const study = kids(measurements)[0];
    expect(line(study ?? {})).toBe('CONTAINS CONTAINER DCM:125007 [TID 1501]');
    const lines = childLines(study);
    expect(lines.slice(0, 7)).toEqual([
      'HAS OBS CONTEXT TEXT DCM:112039 = "LDH study"',
      expect.stringMatching(/^HAS OBS CONTEXT UIDREF DCM:112040 = 2\.25\.\d+$/),
      'CONTAINS CODE DCM:121071 = SCT:202708005',
      'HAS CONCEPT MOD CODE SCT:363698007 = SCT:122496007',
      'HAS CONCEPT MOD TEXT DCM:111001 = "LDH-DualAttention"',
      'HAS CONCEPT MOD TEXT DCM:111003 = "1.0.0"',
      'HAS CONCEPT MOD TEXT DCM:111002 = "threshold=0.5; aggregation=mean;"',
    ]);
    expect(lines.slice(7)).toEqual([
      'CONTAINS NUM DCM:111012 = 91.0 %',
      'CONTAINS NUM DCM:111012 = 80.0 %',
      'CONTAINS NUM DCM:111012 = 95.0 %',
      'CONTAINS NUM DCM:111012 = 90.0 %',
      'CONTAINS NUM DCM:111012 = 61.0 %',
      ...imageLines('CONTAINS', 'DCM:121112', ALL),
      'CONTAINS CODE SCT:202708005 = SCT:52101004',
    ]);
    // The study NUM is inferred from every image; each per-image NUM from its own image.
    expect(childLines(childByCode(study, '111012', 0))).toEqual(imageLines('INFERRED FROM', 'DCM:121112', ALL));
    expect(childLines(childByCode(study, '111012', 2))).toEqual(imageLines('INFERRED FROM', 'DCM:121112', [1]));
    const unit = (childByCode(study, '111012').MeasuredValueSequence ?? [])[0]?.MeasurementUnitsCodeSequence[0];
    expect(unit).toEqual({ CodeValue: '%', CodingSchemeDesignator: 'UCUM', CodeMeaning: 'Percent' });
  });

  it('adds one group per level in anatomical order with the CID 7604 disc and a thresholded decision', () => {
    const groups = kids(childByCode(ds, '126010')).slice(1);
    const summary = groups.map((g) => {
      const l = childLines(g);
      return [l[0], l[3], l.find((x) => x.includes('NUM')), l.at(-1)];
    });
    expect(summary).toEqual([
      ['HAS OBS CONTEXT TEXT DCM:112039 = "L1-L2"', 'HAS CONCEPT MOD CODE SCT:363698007 = SCT:80064006', 'CONTAINS NUM DCM:111012 = 12.0 %', 'CONTAINS CODE SCT:202708005 = SCT:272519000'],
      ['HAS OBS CONTEXT TEXT DCM:112039 = "L4-L5"', 'HAS CONCEPT MOD CODE SCT:363698007 = SCT:84020006', 'CONTAINS NUM DCM:111012 = 91.0 %', 'CONTAINS CODE SCT:202708005 = SCT:52101004'],
      ['HAS OBS CONTEXT TEXT DCM:112039 = "L5-S1"', 'HAS CONCEPT MOD CODE SCT:363698007 = SCT:715056000', 'CONTAINS NUM DCM:111012 = 64.0 %', 'CONTAINS CODE SCT:202708005 = SCT:52101004'],
    ]);
    // A level with a source image cites only it; one without cites all images.
    expect(childLines(childByCode(groups[1], '111012'))).toEqual(imageLines('INFERRED FROM', 'DCM:121112', [2]));
    expect(childLines(childByCode(groups[2], '111012'))).toEqual(imageLines('INFERRED FROM', 'DCM:121112', ALL));
    const trackingUids = groups.map((g) => childByCode(g, '112040').UID);
    expect(new Set(trackingUids).size).toBe(3);
  });

  it('marks a threshold-equal level as Present', () => {
    const d = measurementReportDataset(sampleReportInput({ threshold: 0.64 }));
    const l5 = kids(childByCode(d, '126010')).at(-1);
    expect(childLines(l5).at(-1)).toBe('CONTAINS CODE SCT:202708005 = SCT:52101004');
  });

  it('writes Absent for a healthy study and only the study group without levels', () => {
    const d = measurementReportDataset(sampleReportInput({ decision: 'healthy', studyProbability: 0.2, levels: undefined }));
    const groups = kids(childByCode(d, '126010'));
    expect(groups).toHaveLength(1);
    expect(childLines(groups[0]).at(-1)).toBe('CONTAINS CODE SCT:202708005 = SCT:272519000');
    expect(childLines(groups[0])).toContain('CONTAINS NUM DCM:111012 = 20.0 %');
  });

  it('says PLACEHOLDER MODEL in every group and in the header when the model is a placeholder', () => {
    const d = measurementReportDataset(sampleReportInput({ algorithm: sampleAlgorithm({ placeholder: true }) }));
    for (const g of kids(childByCode(d, '126010'))) {
      expect(childByCode(g, '111002').TextValue).toBe('threshold=0.5; aggregation=mean; PLACEHOLDER MODEL');
    }
    const equipment = (d.ContributingEquipmentSequence as Record<string, unknown>[])[0];
    expect(equipment?.ContributionDescription).toMatch(/PLACEHOLDER MODEL/);
    expect(d.SeriesDescription).toMatch(/PLACEHOLDER MODEL/);
  });

  it('keeps the tracking UID of a finding stable across report versions and honours an explicit one', () => {
    const uidOf = (i: MeasurementReportInput): string | undefined =>
      childByCode(kids(childByCode(measurementReportDataset(i), '126010'))[0], '112040').UID;
    const a = uidOf(sampleReportInput());
    const b = uidOf(sampleReportInput({ sopInstanceUid: '1.2.3.999', studyProbability: 0.3, decision: 'healthy' }));
    expect(a).toBe(b);
    expect(uidOf(sampleReportInput({ trackingUid: '1.2.3.4.5' }))).toBe('1.2.3.4.5');
  });
});

describe('SR header', () => {
  const input = sampleReportInput();
  const ds = measurementReportDataset(input);

  it('is a Comprehensive SR in a new SR series with machine-output flags', () => {
    expect(ds).toMatchObject({
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.33',
      SOPInstanceUID: input.sopInstanceUid,
      Modality: 'SR',
      SeriesInstanceUID: input.seriesInstanceUid,
      SeriesNumber: 9901,
      InstanceNumber: 1,
      CompletionFlag: 'COMPLETE',
      VerificationFlag: 'UNVERIFIED',
      PreliminaryFlag: 'PRELIMINARY',
      ContentDate: '20261123',
      ContentTime: '140506.789000',
      TimezoneOffsetFromUTC: '+0000',
      Manufacturer: 'LDH Triage Project',
      ManufacturerModelName: 'SE-CBAM ResNeXt-50',
      SoftwareVersions: '0.1.0',
      PerformedProcedureCodeSequence: [],
      ReferencedPerformedProcedureStepSequence: [],
    });
  });

  it('copies patient and study attributes and declares UTF-8 for the non-ASCII name', () => {
    expect(ds).toMatchObject({
      SpecificCharacterSet: 'ISO_IR 192',
      PatientName: 'Müller^Jörg',
      PatientID: 'PHANTOM-0001',
      StudyInstanceUID: STUDY_UID,
      AccessionNumber: 'ACC0001',
      StudyDate: '20261123',
    });
  });

  it('writes Type 2 attributes empty when the source lacks them and no charset for ASCII', () => {
    const d = measurementReportDataset(sampleReportInput({ study: { studyInstanceUid: STUDY_UID } }));
    for (const k of ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber']) {
      expect(d[k], k).toBe('');
    }
    expect(d).not.toHaveProperty('SpecificCharacterSet');
  });

  it('declares UTF-8 when only nested text (the algorithm name) is non-ASCII', () => {
    const d = measurementReportDataset(
      sampleReportInput({ study: { studyInstanceUid: STUDY_UID }, algorithm: sampleAlgorithm({ name: 'Modèle' }) }),
    );
    expect(d.SpecificCharacterSet).toBe('ISO_IR 192');
  });

  it('lists every referenced image in the evidence, grouped by series', () => {
    const ev = ds.CurrentRequestedProcedureEvidenceSequence as {
      StudyInstanceUID: string;
      ReferencedSeriesSequence: { SeriesInstanceUID: string; ReferencedSOPSequence: { ReferencedSOPInstanceUID: string }[] }[];
    }[];
    expect(ev).toHaveLength(1);
    expect(ev[0]?.StudyInstanceUID).toBe(STUDY_UID);
    expect(ev[0]?.ReferencedSeriesSequence.map((s) => [s.SeriesInstanceUID, s.ReferencedSOPSequence.map((r) => r.ReferencedSOPInstanceUID)])).toEqual([
      [images[0]?.seriesInstanceUid, [img(0)]],
      [images[1]?.seriesInstanceUid, [img(1), img(2)]],
      [images[3]?.seriesInstanceUid, [img(3)]],
    ]);
  });

  it('names the model as Processing Equipment', () => {
    expect(ds.ContributingEquipmentSequence).toEqual([
      {
        PurposeOfReferenceCodeSequence: [{ CodeValue: '109102', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Processing Equipment' }],
        Manufacturer: 'LDH Triage Project',
        ManufacturerModelName: 'SE-CBAM ResNeXt-50',
        SoftwareVersions: '0.1.0',
        ContributionDateTime: '20261123140506.789000+0000',
        ContributionDescription: 'AI triage (not diagnostic): LDH-DualAttention 1.0.0',
      },
    ]);
  });

  it('is deterministic: the same input gives the same bytes', () => {
    expect(Buffer.from(buildMeasurementReport(sampleReportInput())).equals(Buffer.from(buildMeasurementReport(sampleReportInput())))).toBe(true);
  });
});

describe('input validation', () => {
  const bad: [string, Partial<MeasurementReportInput>, RegExp][] = [
    ['probability above 1', { studyProbability: 1.2 }, /^studyProbability: /],
    ['NaN threshold', { threshold: NaN }, /^threshold: /],
    ['bad SOP Instance UID', { sopInstanceUid: '1.2.03' }, /^sopInstanceUid: /],
    ['no images', { images: [] }, /^images: /],
    ['duplicate image', { images: [images[0]!, images[0]!] }, /^images\[1\]\.sopInstanceUid: duplicate/],
    ['image probability', { images: [{ ...images[0]!, probability: -1 }] }, /^images\[0\]\.probability: /],
    ['unknown level', { levels: [{ level: 'L6-S1' as 'L5-S1', probability: 0.5 }] }, /^levels\[0\]\.level: /],
    ['duplicate level', { levels: [{ level: 'L4-L5', probability: 0.5 }, { level: 'L4-L5', probability: 0.4 }] }, /^levels\[1\]\.level: duplicate/],
    ['level source not an image', { levels: [{ level: 'L4-L5', probability: 0.5, sourceSopInstanceUid: '1.2.3' }] }, /^levels\[0\]\.sourceSopInstanceUid: /],
    ['series reuses a source series', { seriesInstanceUid: images[0]!.seriesInstanceUid }, /^seriesInstanceUid: /],
    ['bad device UID', { algorithm: sampleAlgorithm({ deviceObserverUid: 'model-1' }) }, /^algorithm\.deviceObserverUid: /],
    ['empty algorithm name', { algorithm: sampleAlgorithm({ name: ' ' }) }, /^algorithm\.name: /],
    ['invalid date', { contentDateTime: new Date('nope') }, /^contentDateTime: /],
    ['unknown decision', { decision: 'maybe' as 'ldh' }, /^decision: /],
    ['over-long patient ID (LO 64)', { study: { studyInstanceUid: STUDY_UID, patientId: 'x'.repeat(65) } }, /^study\.patientId: longer than 64/],
    ['over-long accession (SH 16)', { study: { studyInstanceUid: STUDY_UID, accessionNumber: 'A'.repeat(17) } }, /^study\.accessionNumber: /],
    ['non-DICOM birth date', { study: { studyInstanceUid: STUDY_UID, patientBirthDate: '1970-01-01' } }, /^study\.patientBirthDate: not a DICOM date \(YYYYMMDD\)$/],
    ['bad study time', { study: { studyInstanceUid: STUDY_UID, studyTime: '10:15' } }, /^study\.studyTime: /],
    ['bad sex', { study: { studyInstanceUid: STUDY_UID, patientSex: 'male' } }, /^study\.patientSex: /],
    ['multi-valued name', { study: { studyInstanceUid: STUDY_UID, patientName: 'A^B\\C^D' } }, /^study\.patientName: /],
  ];
  it('accepts fractional study times and empty optional attributes', () => {
    const study = { studyInstanceUid: STUDY_UID, studyTime: '101500.123456', patientSex: '', patientBirthDate: '' };
    expect(() => buildMeasurementReport(sampleReportInput({ study }))).not.toThrow();
  });
  it.each(bad)('rejects %s', (_name, overrides, message) => {
    const run = (): unknown => buildMeasurementReport(sampleReportInput(overrides));
    expect(run).toThrow(SrInputError);
    expect(run).toThrow(message);
  });
});
