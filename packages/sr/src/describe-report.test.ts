import { describe, expect, it } from 'vitest';
import { buildKeyObjectSelection, buildMeasurementReport, describeReport, measurementReportDataset, SrParseError } from '@ldh/sr';
import { writePart10 } from './part10.js';
import { sampleAlgorithm, sampleKeyObjectInput, sampleReportInput } from './testing/sample-input.js';

describe('describeReport', () => {
  it('reads back what buildMeasurementReport wrote', () => {
    const input = sampleReportInput({ studyProbability: 0.12345, decision: 'healthy', algorithm: sampleAlgorithm({ placeholder: true }) });
    expect(describeReport(buildMeasurementReport(input))).toEqual({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.88.33',
      sopInstanceUid: input.sopInstanceUid,
      seriesInstanceUid: input.seriesInstanceUid,
      studyInstanceUid: input.study.studyInstanceUid,
      studyProbability: 0.123,
      decision: 'healthy',
      imageCount: 4,
      levels: [
        { level: 'L1-L2', probability: 0.12, decision: 'healthy' },
        { level: 'L4-L5', probability: 0.91, decision: 'ldh' },
        { level: 'L5-S1', probability: 0.64, decision: 'ldh' },
      ],
      algorithmName: 'LDH-DualAttention',
      algorithmVersion: '1.0.0',
      placeholder: true,
    });
  });

  it.each([0, 1, 0.99999])('round-trips the edge probability %s', (p) => {
    const d = describeReport(buildMeasurementReport(sampleReportInput({ studyProbability: p })));
    expect(d.studyProbability).toBeCloseTo(p, 3);
  });

  it('returns non-ASCII text from nested items intact (dcmjs #508)', () => {
    const d = describeReport(buildMeasurementReport(sampleReportInput({ algorithm: sampleAlgorithm({ name: 'Modèle Ω' }) })));
    expect(d.algorithmName).toBe('Modèle Ω');
  });

  it('accepts the deprecated SRT designator that older writers emit for SNOMED codes', () => {
    const ds = measurementReportDataset(sampleReportInput());
    const srt = JSON.parse(JSON.stringify(ds).replaceAll('"CodingSchemeDesignator":"SCT"', '"CodingSchemeDesignator":"SRT"')) as Record<string, unknown>;
    expect(describeReport(writePart10(srt)).decision).toBe('ldh');
  });

  it('rejects a KOS and garbage with SrParseError', () => {
    expect(() => describeReport(buildKeyObjectSelection(sampleKeyObjectInput()))).toThrow(SrParseError);
    expect(() => describeReport(new Uint8Array([1, 2, 3]))).toThrow(SrParseError);
  });
});
