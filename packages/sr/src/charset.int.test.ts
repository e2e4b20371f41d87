import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { personName, readPart10, str, uidFromName } from '@ldh/dicom';
import { pydicomCharsetDir, pydicomText, writeCharsetMatrix } from '@ldh/dicom/testing';
import { buildKeyObjectSelection, buildMeasurementReport, sourceStudyHeader } from '@ldh/sr';
import { sampleAlgorithm, sampleImages } from './testing/sample-input.js';

// Source headers nobody here wrote (pydicom's charset files, and headers pydicom writes in the
// charsets those files lack) go through the pipeline's header reading and the SR/KOS writers;
// the names read back, by us and by pydicom, must equal pydicom's decoding of the source.

const out = mkdtempSync(join(tmpdir(), 'ldh-sr-charset-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const dir = pydicomCharsetDir();
// `reference`: where pydicom 2.3 misreads a matrix source (IR 58, ISO_IR 203, one escape per
// value), CPython's codec decoded it instead (see writeCharsetMatrix).
const sources: { name: string; file: string; reference?: string[] }[] = [
  ...readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => ({ name: f, file: join(dir, f) })),
  ...writeCharsetMatrix(out).map((m) => ({ name: `matrix ${m.name}`, file: m.file, ...(m.reference ? { reference: m.reference.PatientName } : {}) })),
];

function run(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
const groupsOf = (pn: string | undefined): string[] => (pn ?? '').split('=').filter((g, i, all) => g !== '' || all.slice(i).some((x) => x !== ''));

/** Builds the SR and KOS from a source header as the report job does; returns their paths. */
function writeReports(name: string, file: string): { sr: string; kos: string; header: ReturnType<typeof sourceStudyHeader> } {
  const { dataset, characterSet } = readPart10(readFileSync(file), { headerOnly: true });
  const studyUid = str(dataset, 'StudyInstanceUID') ?? uidFromName(`ldh-sr-charset:${name}`);
  const header = sourceStudyHeader(dataset, studyUid, characterSet);
  const images = sampleImages();
  const common = { study: header, contentDateTime: new Date('2026-12-01T10:00:00Z'), algorithm: sampleAlgorithm() };
  const sr = buildMeasurementReport({
    ...common,
    images,
    studyProbability: 0.9,
    threshold: 0.5,
    decision: 'ldh',
    aggregation: 'mean',
    sopInstanceUid: uidFromName(`ldh-sr-charset:${name}:sr`),
    seriesInstanceUid: uidFromName(`ldh-sr-charset:${name}:sr-series`),
  });
  const kos = buildKeyObjectSelection({
    ...common,
    images: images.slice(0, 2),
    description: 'AI: suspected LDH',
    sopInstanceUid: uidFromName(`ldh-sr-charset:${name}:kos`),
    seriesInstanceUid: uidFromName(`ldh-sr-charset:${name}:kos-series`),
  });
  const base = join(out, name.replace(/\W+/g, '-'));
  writeFileSync(`${base}-sr.dcm`, sr);
  writeFileSync(`${base}-kos.dcm`, kos);
  return { sr: `${base}-sr.dcm`, kos: `${base}-kos.dcm`, header };
}

const written = sources.map((s) => ({ ...s, ...writeReports(s.name, s.file) }));
const pyd = pydicomText(written.flatMap((w) => [w.file, w.sr, w.kos]));
const pydName = (file: string): string[] | undefined => pyd[file]!.elements.find((e) => e.path.length === 1 && e.path[0] === 'PatientName')?.values[0] as string[] | undefined;

describe('SR and KOS carry the source patient/study attributes losslessly (UTF-8, ISO_IR 192)', () => {
  for (const w of written) {
    it(`${w.name}: PatientName groups survive source -> SR/KOS, read back by us and by pydicom`, () => {
      const sourceGroups = w.reference ?? pydName(w.file);
      if (sourceGroups === undefined) {
        // chrSQEncoding*: the name is inside a sequence item, the source has no top-level PatientName.
        expect(w.header.patientName).toBeUndefined();
      } else {
        expect(groupsOf(w.header.patientName)).toEqual(groupsOf(sourceGroups.join('=')));
      }
      for (const report of [w.sr, w.kos]) {
        const { dataset, characterSet } = readPart10(readFileSync(report));
        const back = personName(dataset, 'PatientName');
        expect(back ? groupsOf([back.alphabetic, back.ideographic ?? '', back.phonetic ?? ''].join('=')) : []).toEqual(groupsOf(sourceGroups?.join('=')));
        expect(pydName(report) ?? []).toEqual(sourceGroups ?? []);
        for (const kw of ['PatientID', 'AccessionNumber', 'StudyID', 'PatientBirthDate', 'StudyDate']) {
          expect([kw, str(dataset, kw) ?? '']).toEqual([kw, str(readPart10(readFileSync(w.file), { headerOnly: true }).dataset, kw) ?? '']);
        }
        const ascii = [...JSON.stringify(w.header)].every((c) => c.charCodeAt(0) < 0x80);
        expect(characterSet).toEqual(ascii ? [] : ['ISO_IR 192']);
      }
    });

    it(`${w.name}: dciodvfy finds no error in the SR and KOS; dsrdump and dcmdump read them`, () => {
      for (const report of [w.sr, w.kos]) {
        const v = run('dciodvfy', [report]);
        expect(v.out.split('\n').filter((l) => /error/i.test(l))).toEqual([]);
        const d = run('dsrdump', ['+Pl', report]);
        expect(d.code).toBe(0);
        expect(d.out).not.toMatch(/^E:/m);
        const u = run('dcmdump', ['+U8', '+P', 'PatientName', report]);
        expect(u.code).toBe(0);
        const name = pydName(report);
        if (name) expect(u.out).toContain(`[${name.join('=')}]`);
      }
    });
  }
});
