import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IMAGES_CSV_HEADER, LABELS_CSV_HEADER, writePhantomDataset } from './dataset.js';
import { PhantomOptionError, PhantomSpecError } from './errors.js';
import { readPart10 } from './testing/read-part10.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ldh-phantom-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('writePhantomDataset', () => {
  it('writes <case>/<role>/<NNN>.dcm and labels.csv, one patient per study', async () => {
    const outDir = await tempDir();
    const progress: number[] = [];
    const res = await writePhantomDataset({ outDir, count: 3, seed: 9, matrix: 64, sagittalSlices: 11, onProgress: (d) => progress.push(d) });
    expect(progress).toEqual([1, 2, 3]);
    expect(res.studies.map((s) => s.patientId)).toEqual(['PH0001', 'PH0002', 'PH0003']);
    const csv = await readFile(join(outDir, 'labels.csv'), 'utf8');
    expect(csv).toBe(res.labelsCsv);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(LABELS_CSV_HEADER);
    expect(lines[0]).toBe('study_uid,patient_id,case_dir,label,L1-L2,L2-L3,L3-L4,L4-L5,L5-S1');
    expect(lines.length).toBe(4);
    for (const [k, line] of lines.slice(1).entries()) {
      const cells = line.split(',');
      expect(cells.length).toBe(9);
      const study = res.studies[k];
      expect(cells[0]).toBe(study?.studyInstanceUid);
      expect(cells[2]).toBe(`case-000${k + 1}`);
      expect(cells[3]).toBe(study?.label);
      for (const cell of cells.slice(4)) expect(cell).toMatch(/^(none::0|bulge:central:[\d.]+|(protrusion|extrusion):(central|paracentral-left|paracentral-right):[\d.]+)$/);
      const positive = cells.slice(4).some((c) => /^(protrusion|extrusion)/.test(c));
      expect(cells[3]).toBe(positive ? 'ldh' : 'healthy');
    }
    const case1 = join(outDir, 'case-0001');
    expect((await readdir(case1)).sort()).toEqual(['t1_sag', 't2_ax', 't2_sag']);
    const t1 = (await readdir(join(case1, 't1_sag'))).sort();
    expect(t1[0]).toBe('001.dcm');
    expect(t1.length).toBe(11);
    const count = (await Promise.all(['t1_sag', 't2_sag', 't2_ax'].map((r) => readdir(join(case1, r))))).flat().length;
    expect(count).toBe(res.studies[0]?.instanceCount);
    const { ds } = readPart10(new Uint8Array(await readFile(join(case1, 't1_sag', '001.dcm'))));
    expect(ds.PatientID).toBe('PH0001');
    expect(ds.StudyInstanceUID).toBe(res.studies[0]?.studyInstanceUid);
  });

  it('applies a levels spec to every study and honours ldhFraction otherwise', async () => {
    const fixed = await writePhantomDataset({ outDir: await tempDir(), count: 2, seed: 1, matrix: 64, sagittalSlices: 11, levels: 'L5-S1:bulge' });
    expect(fixed.studies.map((s) => s.label)).toEqual(['healthy', 'healthy']);
    expect(fixed.labelsCsv).toContain('none::0,bulge:central:');
    const allPos = await writePhantomDataset({ outDir: await tempDir(), count: 3, seed: 2, matrix: 64, sagittalSlices: 11, ldhFraction: 1, transferSyntax: 'rle' });
    expect(allPos.studies.every((s) => s.label === 'ldh')).toBe(true);
  });

  it('writes images.csv: axial slices labelled by the grade of their own level, sagittal ones by the study', async () => {
    const outDir = await tempDir();
    const res = await writePhantomDataset({ outDir, count: 1, seed: 4, matrix: 64, sagittalSlices: 11, levels: 'L3-L4:none,L4-L5:extrusion,L5-S1:bulge' });
    const lines = (await readFile(join(outDir, 'images.csv'), 'utf8')).trim().split('\n');
    expect(lines[0]).toBe(IMAGES_CSV_HEADER);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.length).toBe(res.studies[0]?.instanceCount);
    const axial = rows.filter((r) => r[2] === 't2_ax');
    const perLevel = axial.length / 3;
    expect(axial.filter((r) => r[3] === 'L3-L4').length).toBe(perLevel);
    for (const r of axial) expect(r[4]).toBe(r[3] === 'L4-L5' ? 'ldh' : 'healthy');
    for (const r of rows.filter((x) => x[2] !== 't2_ax')) expect([r[3], r[4]]).toEqual(['', 'ldh']);
    // Every written file is named in images.csv by its SOP Instance UID.
    const { ds } = readPart10(new Uint8Array(await readFile(join(outDir, 'case-0001', 't2_ax', '001.dcm'))));
    expect(axial.map((r) => r[1])).toContain(ds.SOPInstanceUID);
    expect(axial.find((r) => r[1] === ds.SOPInstanceUID)?.[3]).toBe('L3-L4');
  });

  it('rejects a bad spec or count before writing anything', async () => {
    await expect(writePhantomDataset({ outDir: await tempDir(), count: 1, seed: 1, levels: 'L4-L5:huge' })).rejects.toThrow(PhantomSpecError);
    await expect(writePhantomDataset({ outDir: await tempDir(), count: 0, seed: 1 })).rejects.toThrow(PhantomOptionError);
  });
});
