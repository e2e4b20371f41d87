import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKeyObjectSelection, buildMeasurementReport, describeReport, DISC_LEVELS, measurementReportDataset } from '@ldh/sr';
import { writePart10 } from './part10.js';
import { sampleAlgorithm, sampleEnhancedImages, sampleImages, sampleKeyObjectInput, sampleReportInput } from './testing/sample-input.js';

// Real validators: dciodvfy (dicom3tools) checks the IOD, dsrdump (DCMTK) parses the SR tree
// with its relationship constraints, dcmdump shows the bytes as another toolkit decodes them.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ldh-sr-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function save(name: string, bytes: Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/**
 * dsrdump must exit 0 and print no error ("E:") line. Its two expected warnings are printed:
 * DCMTK 3.6.7's VR checker does not handle ISO_IR 192, and it has no template checks.
 */
function expectParsableSr(file: string): string {
  const { code, out } = run('dsrdump', ['+Pl', file]);
  const warnings = out.split('\n').filter((l) => l.startsWith('W:'));
  if (warnings.length > 0) console.log(`dsrdump warnings for ${file}:\n${warnings.join('\n')}`);
  expect(code).toBe(0);
  expect(out).not.toMatch(/^E:/m);
  for (const w of warnings) expect(w).toMatch(/Specific Character Set: ISO_IR 192|template constraints not yet supported/);
  return out;
}

/** dciodvfy prints all findings on stderr/stdout; any "Error" line fails, warnings are shown. */
function expectValidIod(file: string): void {
  const { out } = run('dciodvfy', [file]);
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const warnings = lines.filter((l) => /warning/i.test(l));
  if (warnings.length > 0) console.log(`dciodvfy warnings for ${file}:\n${warnings.join('\n')}`);
  expect(lines.filter((l) => /error/i.test(l))).toEqual([]);
}

describe('measurement report against DICOM validators', () => {
  const cases = {
    'with levels': sampleReportInput(),
    'study only, placeholder, healthy': sampleReportInput({
      levels: undefined,
      decision: 'healthy',
      studyProbability: 0.12345,
      algorithm: sampleAlgorithm({ placeholder: true }),
    }),
    'ascii patient, edge probabilities': sampleReportInput({
      study: { ...sampleReportInput().study, patientName: 'Doe^John', specificCharacterSet: undefined },
      studyProbability: 0.99999,
      levels: [{ level: 'L3-L4', probability: 0 }, { level: 'L4-L5', probability: 1 }],
    }),
    'all five levels, enhanced MR, no frame of reference': sampleReportInput({
      images: sampleImages().map(({ frameOfReferenceUid: _for, ...img }) => ({ ...img, sopClassUid: '1.2.840.10008.5.1.4.1.1.4.1' })),
      levels: DISC_LEVELS.map((level, i) => ({ level, probability: i / 4 })),
      seriesNumber: 42,
      instanceNumber: 3,
    }),
    'frames of Enhanced MR images (Referenced Frame Number)': sampleReportInput({
      images: sampleEnhancedImages(),
      levels: [{ level: 'L4-L5', probability: 0.9, sourceSopInstanceUid: sampleEnhancedImages()[2]!.sopInstanceUid, sourceFrameNumber: 8 }],
    }),
  };

  it('passes dciodvfy and dsrdump with per-level groups: sources, own threshold and decision per level', () => {
    const base = sampleImages();
    const ax = base[3]!;
    const images = [...base, { ...ax, sopInstanceUid: `${ax.sopInstanceUid}.2`, probability: 0.82 }, { ...ax, sopInstanceUid: `${ax.sopInstanceUid}.3`, probability: 0.2 }];
    const input = sampleReportInput({
      images,
      levels: [
        { level: 'L4-L5', probability: 0.715, threshold: 0.4, decision: 'ldh', sourceSopInstanceUid: images[4]!.sopInstanceUid, sources: [{ sopInstanceUid: images[3]!.sopInstanceUid }, { sopInstanceUid: images[4]!.sopInstanceUid }] },
        { level: 'L5-S1', probability: 0.2, threshold: 0.4, decision: 'healthy', sourceSopInstanceUid: images[5]!.sopInstanceUid, sources: [{ sopInstanceUid: images[5]!.sopInstanceUid }] },
      ],
    });
    const file = save('sr-per-level.dcm', buildMeasurementReport(input));
    expectValidIod(file);
    const dump = expectParsableSr(file);
    expect(dump).toContain('"Finding Site")=(84020006,SCT,"L4/L5 disc")');
    expect(dump).toContain('"Finding Site")=(715056000,SCT,"L5/S1 disc")');
    expect(dump).toContain('"Algorithm Parameters")="threshold=0.4; aggregation=mean;"');
    // Study group lists 6 images, L4-L5 two, L5-S1 one.
    expect(dump.match(/<contains IMAGE:\(,,"Source of Measurement"\)/g)).toHaveLength(6 + 2 + 1);
    const d = describeReport(buildMeasurementReport(input));
    expect(d.levels).toEqual([
      { level: 'L4-L5', probability: 0.715, decision: 'ldh' },
      { level: 'L5-S1', probability: 0.2, decision: 'healthy' },
    ]);
  });

  for (const [name, input] of Object.entries(cases)) {
    it(`passes dciodvfy and dsrdump: ${name}`, () => {
      const file = save(`sr-${name.replace(/\W+/g, '-')}.dcm`, buildMeasurementReport(input));
      expectValidIod(file);
      const dump = expectParsableSr(file);
      expect(dump).toContain('Imaging Measurement Report');
      expect(dump).toContain(`"Algorithm Parameters")="threshold=0.5; aggregation=mean;${input.algorithm.placeholder ? ' PLACEHOLDER MODEL' : ''}"`);
    });
  }

  it('references frames as dsrdump reads them (Image Library and INFERRED FROM)', () => {
    const file = save('sr-frames-dump.dcm', buildMeasurementReport(sampleReportInput({ images: sampleEnhancedImages(), levels: [] })));
    const dump = expectParsableSr(file);
    for (const frame of [7, 8, 12]) {
      expect(dump).toContain(`<contains IMAGE:(,,"Source")=(MRe image,,${frame})>`);
      expect(dump).toContain(`<inferred from IMAGE:(,,"Source of Measurement")=(MRe image,,${frame})>`);
    }
  });

  it('would see a broken SR: dciodvfy reports the missing Type 1 attributes', () => {
    const ds = measurementReportDataset(sampleReportInput());
    delete ds.CompletionFlag;
    delete ds.Modality;
    const { out } = run('dciodvfy', [save('sr-broken.dcm', writePart10(ds))]);
    expect(out).toMatch(/^Error - Missing attribute Type 1 Required Element=<CompletionFlag>/m);
    expect(out).toMatch(/^Error - Missing attribute Type 1 Required Element=<Modality>/m);
  });

  it('round-trips through describeReport', () => {
    const input = sampleReportInput();
    const d = describeReport(buildMeasurementReport(input));
    expect(d).toMatchObject({
      sopInstanceUid: input.sopInstanceUid,
      studyInstanceUid: input.study.studyInstanceUid,
      seriesInstanceUid: input.seriesInstanceUid,
      studyProbability: 0.91,
      decision: 'ldh',
      imageCount: input.images.length,
      placeholder: false,
    });
    expect(d.levels.map((l) => [l.level, l.probability, l.decision])).toEqual([
      ['L1-L2', 0.12, 'healthy'],
      ['L4-L5', 0.91, 'ldh'],
      ['L5-S1', 0.64, 'ldh'],
    ]);
  });

  it('keeps a non-ASCII patient name intact for dcmdump (ISO_IR 192)', () => {
    const file = save('sr-charset.dcm', buildMeasurementReport(sampleReportInput()));
    const { code, out } = run('dcmdump', ['+U8', '+P', 'SpecificCharacterSet', '+P', 'PatientName', file]);
    expect(code).toBe(0);
    expect(out).toContain('ISO_IR 192');
    expect(out).toContain('Müller^Jörg');
  });
});

describe('key object selection against DICOM validators', () => {
  it('passes dciodvfy and dsrdump with the "Of Interest" title', () => {
    const file = save('kos.dcm', buildKeyObjectSelection(sampleKeyObjectInput()));
    expectValidIod(file);
    const dump = expectParsableSr(file);
    expect(dump).toContain('<CONTAINER:(,,"Of Interest")=SEPARATE>');
    expect(dump).toContain('"Key Object Description")="AI: suspected LDH at L4-L5, L5-S1"');
    expect(dump.match(/<contains IMAGE:=\(MR image,\)>/g)).toHaveLength(2);
  });

  it('passes dciodvfy and dsrdump with frames of a multi-frame image in one reference', () => {
    const file = save('kos-frames.dcm', buildKeyObjectSelection(sampleKeyObjectInput({ images: sampleEnhancedImages() })));
    expectValidIod(file);
    const dump = expectParsableSr(file);
    // dsrdump +Pl prints an image reference as "(class,instance,frames)" (UIDs shortened away).
    expect(dump).toContain('<contains IMAGE:=(MRe image,,7,8)>');
    expect(dump).toContain('<contains IMAGE:=(MRe image,,12)>');
    expect(dump).toContain('<contains IMAGE:=(MR image,)>');
    expect(run('dcmdump', ['+P', 'ReferencedFrameNumber', file]).out.match(/\(0008,1160\) IS \[[^\]]*\]/g)).toEqual(['(0008,1160) IS [7\\8]', '(0008,1160) IS [12]']);
  });
});
