import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestMrInstance, readPart10, uidFromName } from '@ldh/dicom';
import { buildSecondaryCapture, SECONDARY_CAPTURE_SOP_CLASS, SrInputError, summaryHeadline, type SecondaryCaptureInput } from '@ldh/sr';
import { sampleAlgorithm, sampleReportInput } from './testing/sample-input.js';

// dciodvfy (dicom3tools) validates the SC IOD; dcmdump (DCMTK) shows what another toolkit reads.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ldh-sc-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const keyUid = uidFromName('ldh-sc-test:key-image');
function input(overrides: Partial<SecondaryCaptureInput> = {}): SecondaryCaptureInput {
  return {
    study: sampleReportInput().study,
    levels: [
      { level: 'L3-L4', probability: 0.12, decision: 'healthy' },
      { level: 'L4-L5', probability: 0.81, decision: 'ldh' },
      { level: 'L5-S1', probability: 0.33, decision: 'healthy' },
    ],
    studyProbability: 0.64,
    decision: 'ldh',
    keyLevel: 'L4-L5',
    keyImage: { bytes: buildTestMrInstance({ sopInstanceUid: keyUid, rows: 96, columns: 80 }), sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: keyUid },
    algorithm: sampleAlgorithm(),
    sopInstanceUid: uidFromName('ldh-sc-test:sc'),
    seriesInstanceUid: uidFromName('ldh-sc-test:sc-series'),
    contentDateTime: new Date(Date.UTC(2026, 11, 6, 12, 0, 0)),
    ...overrides,
  };
}

function expectValidIod(file: string): void {
  const { out } = run('dciodvfy', [file]);
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const warnings = lines.filter((l) => /warning/i.test(l));
  if (warnings.length > 0) console.log(`dciodvfy warnings for ${file}:\n${warnings.join('\n')}`);
  expect(lines.filter((l) => /error/i.test(l))).toEqual([]);
}

describe('Secondary Capture summary', () => {
  const cases: Record<string, SecondaryCaptureInput> = {
    'positive, key image, non-ASCII patient': input(),
    'negative, placeholder model, ASCII patient': input({
      decision: 'healthy',
      studyProbability: 0.1,
      levels: [{ level: 'L4-L5', probability: 0.1, decision: 'healthy' }],
      study: { ...sampleReportInput().study, patientName: 'Doe^John' },
      algorithm: sampleAlgorithm({ placeholder: true }),
    }),
    'no level scored and no key image': input({ levels: [], keyLevel: undefined, keyImage: undefined }),
  };
  for (const [name, sc] of Object.entries(cases)) {
    it(`passes dciodvfy: ${name}`, async () => {
      const { bytes, rendered } = await buildSecondaryCapture(sc);
      expect(rendered.rgb.length).toBe(rendered.width * rendered.height * 3);
      const file = join(dir, `sc-${name.replace(/\W+/g, '-')}.dcm`);
      writeFileSync(file, bytes);
      expectValidIod(file);
      const ds = readPart10(bytes).dataset;
      expect(ds.SOPClassUID).toBe(SECONDARY_CAPTURE_SOP_CLASS);
      expect(ds.StudyInstanceUID).toBe(sc.study.studyInstanceUid);
      expect(ds.SeriesInstanceUID).toBe(sc.seriesInstanceUid);
      expect(ds).toMatchObject({ Modality: 'OT', ConversionType: 'WSD', BurnedInAnnotation: 'YES', PhotometricInterpretation: 'RGB', SamplesPerPixel: 3 });
      expect(ds.PatientName).toEqual([{ Alphabetic: sc.study.patientName }]);
    });
  }

  it('copies the patient name as dcmdump reads it, with ISO_IR 192 declared for non-ASCII text', async () => {
    const file = join(dir, 'sc-charset.dcm');
    writeFileSync(file, (await buildSecondaryCapture(input())).bytes);
    const { code, out } = run('dcmdump', ['+U8', '+P', 'SpecificCharacterSet', '+P', 'PatientName', '+P', 'ReferencedSOPInstanceUID', file]);
    expect(code).toBe(0);
    expect(out).toContain('ISO_IR 192');
    expect(out).toContain('Müller^Jörg');
    expect(out).toContain(keyUid);
  });

  it('draws the key image: its pixels differ from a render without it', async () => {
    const withImage = (await buildSecondaryCapture(input())).rendered.rgb;
    const without = (await buildSecondaryCapture(input({ keyImage: undefined }))).rendered.rgb;
    expect(Buffer.compare(withImage, without)).not.toBe(0);
  });

  it('states the result in the banner', () => {
    expect(summaryHeadline(input())).toBe('AI triage: LDH suspected at L4-L5, score 0.81');
    expect(summaryHeadline(input({ decision: 'healthy', studyProbability: 0.2 }))).toBe('AI triage: no LDH suspected, score 0.20');
  });

  it('refuses an undecodable key image and a key level that is not listed', async () => {
    await expect(buildSecondaryCapture(input({ keyImage: { ...input().keyImage!, bytes: new Uint8Array(200) } }))).rejects.toThrow(SrInputError);
    await expect(buildSecondaryCapture(input({ keyLevel: 'L1-L2' }))).rejects.toThrow(/keyLevel: L1-L2 is not one of the levels/);
  });
});
