import { describe, expect, it } from 'vitest';
import { PhantomOptionError } from './errors.js';
import { decodeRle16 } from './rle.js';
import { studyLabel } from './levels.js';
import { Prng } from './prng.js';
import { generateStudy } from './study.js';
import { drawLevels } from './truth.js';
import { readPart10, nums } from './testing/read-part10.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, MR_IMAGE_STORAGE, RLE_LOSSLESS } from './transfer-syntax.js';
import type { LevelTruth, PhantomInstance, PhantomStudy } from './types.js';

// Small matrices keep the suite fast; geometry and truth do not depend on the matrix.
const M = 96;

type V3 = [number, number, number];
const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: V3, b: V3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: V3): number => Math.sqrt(dot(a, a));

interface Geo {
  ipp: V3;
  row: V3;
  col: V3;
  normal: V3;
  spacing: number;
  ps: number;
  rows: number;
  cols: number;
  frameOfReference: string;
}

function geometry(inst: PhantomInstance): Geo {
  const { ds } = readPart10(inst.bytes);
  const iop = nums(ds.ImageOrientationPatient);
  const row = iop.slice(0, 3) as V3;
  const col = iop.slice(3, 6) as V3;
  return {
    ipp: nums(ds.ImagePositionPatient) as V3,
    row,
    col,
    normal: cross(row, col),
    spacing: Number(ds.SpacingBetweenSlices),
    ps: nums(ds.PixelSpacing)[0] ?? 0,
    rows: Number(ds.Rows),
    cols: Number(ds.Columns),
    frameOfReference: String(ds.FrameOfReferenceUID),
  };
}

function pixelsOf(inst: PhantomInstance): Uint16Array {
  const { meta, ds } = readPart10(inst.bytes);
  const rows = Number(ds.Rows);
  const cols = Number(ds.Columns);
  const frame = (ds.PixelData as ArrayBuffer[])[0];
  if (!frame) throw new Error('no pixel data');
  if (meta.TransferSyntaxUID === RLE_LOSSLESS) return decodeRle16(new Uint8Array(frame), rows, cols);
  return new Uint16Array(frame.slice(0, rows * cols * 2));
}

const byRole = (st: PhantomStudy, role: PhantomInstance['role']): PhantomInstance[] => st.instances.filter((i) => i.role === role);

describe('generateStudy', () => {
  const study = generateStudy({ seed: 11, matrix: M });

  it('is deterministic: the same options give byte-identical files, another seed does not', () => {
    const again = generateStudy({ seed: 11, matrix: M });
    expect(again.instances.length).toBe(study.instances.length);
    study.instances.forEach((inst, k) => {
      const other = again.instances[k];
      expect(other?.sopInstanceUid).toBe(inst.sopInstanceUid);
      expect(Buffer.from(other?.bytes ?? []).equals(Buffer.from(inst.bytes))).toBe(true);
    });
    const different = generateStudy({ seed: 12, matrix: M });
    expect(different.studyInstanceUid).not.toBe(study.studyInstanceUid);
    expect(Buffer.from(different.instances[0]?.bytes ?? []).equals(Buffer.from(study.instances[0]?.bytes ?? []))).toBe(false);
  });

  it('has the three series with the expected slice counts and a synthetic identity', () => {
    const t1 = byRole(study, 't1_sag');
    const t2 = byRole(study, 't2_sag');
    const ax = byRole(study, 't2_ax');
    expect(t1.length).toBeGreaterThanOrEqual(11);
    expect(t1.length).toBeLessThanOrEqual(15);
    expect(t2.length).toBe(t1.length);
    expect([9, 12, 15]).toContain(ax.length);
    expect(study.patientId).toBe('PH0001');
    expect(study.patientName).toBe('PHANTOM^CASE0001');
    const first = t1[0];
    if (!first) throw new Error('no T1');
    const { meta, ds } = readPart10(first.bytes);
    expect(meta.MediaStorageSOPClassUID).toBe(MR_IMAGE_STORAGE);
    expect(meta.MediaStorageSOPInstanceUID).toBe(first.sopInstanceUid);
    expect(meta.TransferSyntaxUID).toBe(EXPLICIT_VR_LITTLE_ENDIAN);
    expect(ds.SOPClassUID).toBe(MR_IMAGE_STORAGE);
    expect(ds.Modality).toBe('MR');
    expect(ds.BodyPartExamined).toBe('LSPINE');
    expect(ds.SeriesDescription).toBe('T1_TSE_SAG');
    expect(Number(ds.RepetitionTime)).toBeLessThan(800);
    expect(Number(ds.EchoTime)).toBeLessThan(20);
    expect(ds.BitsAllocated).toBe(16);
    expect(ds.PixelRepresentation).toBe(0);
    expect(ds.PhotometricInterpretation).toBe('MONOCHROME2');
    const t2ds = readPart10(t2[0]?.bytes ?? new Uint8Array()).ds;
    expect(t2ds.SeriesDescription).toBe('T2_TSE_SAG');
    expect(Number(t2ds.RepetitionTime)).toBeGreaterThanOrEqual(3000);
    expect(Number(t2ds.EchoTime)).toBeGreaterThanOrEqual(80);
  });

  it('stacks sagittal slices along the normal by SpacingBetweenSlices; T1 and T2 share the geometry', () => {
    const t1 = byRole(study, 't1_sag').map(geometry);
    const t2 = byRole(study, 't2_sag').map(geometry);
    const frames = new Set([...t1, ...t2, ...byRole(study, 't2_ax').map(geometry)].map((g) => g.frameOfReference));
    expect(frames.size).toBe(1);
    for (let k = 0; k < t1.length; k++) {
      const g = t1[k] as Geo;
      expect(g.row).toEqual([0, 1, 0]);
      expect(g.col).toEqual([0, 0, -1]);
      expect(g.rows).toBe(M);
      expect(t2[k]?.ipp).toEqual(g.ipp);
      if (k === 0) continue;
      const d = sub(g.ipp, (t1[k - 1] as Geo).ipp);
      expect(Math.abs(dot(d, g.normal))).toBeCloseTo(g.spacing, 3);
      expect(norm(d)).toBeCloseTo(g.spacing, 3);
    }
  });

  it('places each axial stack parallel-stacked and centred on its disc (L3-L4, L4-L5, L5-S1)', () => {
    const ax = byRole(study, 't2_ax').map(geometry);
    const perLevel = ax.length / 3;
    (['L3-L4', 'L4-L5', 'L5-S1'] as const).forEach((level, j) => {
      const stack = ax.slice(j * perLevel, (j + 1) * perLevel);
      const first = stack[0] as Geo;
      expect(first.row).toEqual([1, 0, 0]);
      expect(norm(first.normal)).toBeCloseTo(1, 5);
      // Oblique: tilted about the patient x axis only.
      expect(first.normal[0]).toBeCloseTo(0, 6);
      const centres = stack.map((g) => {
        const half = ((g.rows - 1) / 2) * g.ps;
        return [0, 1, 2].map((i) => (g.ipp[i] ?? 0) + half * ((g.row[i] ?? 0) + (g.col[i] ?? 0))) as V3;
      });
      for (let k = 1; k < stack.length; k++) {
        const d = sub(centres[k] as V3, centres[k - 1] as V3);
        expect(Math.abs(dot(d, first.normal))).toBeCloseTo(first.spacing, 3);
        expect(norm(d)).toBeCloseTo(first.spacing, 3);
      }
      const mean = [0, 1, 2].map((i) => centres.reduce((a, c) => a + (c[i] ?? 0), 0) / centres.length) as V3;
      const disc = study.discCentres[level];
      // Along the slice normal, the stack's centre is within a millimetre of the disc's mid-height.
      expect(Math.abs(dot(sub(mean, disc), first.normal))).toBeLessThan(1);
    });
    const ds = readPart10(byRole(study, 't2_ax')[0]?.bytes ?? new Uint8Array()).ds;
    expect(ds.SeriesDescription).toBe('T2_TSE_TRA');
  });

  it.each([
    ['explicit VR LE', EXPLICIT_VR_LITTLE_ENDIAN],
    ['implicit VR LE', IMPLICIT_VR_LITTLE_ENDIAN],
    ['RLE lossless', RLE_LOSSLESS],
  ])('writes %s files that dcmjs reads back with identical pixels', (_name, ts) => {
    const st = generateStudy({ seed: 5, matrix: 64, sagittalSlices: 11, axialSlicesPerLevel: 3, transferSyntaxUid: ts });
    const ref = ts === EXPLICIT_VR_LITTLE_ENDIAN ? st : generateStudy({ seed: 5, matrix: 64, sagittalSlices: 11, axialSlicesPerLevel: 3 });
    expect(st.instances.length).toBe(11 + 11 + 9);
    st.instances.forEach((inst, k) => {
      const { meta, ds } = readPart10(inst.bytes);
      expect(meta.TransferSyntaxUID).toBe(ts);
      expect(ds.SOPInstanceUID).toBe(inst.sopInstanceUid);
      expect(ds.InstanceNumber).toBe(inst.instanceNumber);
      const refInst = ref.instances[k] as PhantomInstance;
      expect(pixelsOf(inst)).toEqual(pixelsOf(refInst));
    });
  });

  it('rejects options out of range', () => {
    expect(() => generateStudy({ seed: 1, matrix: 20 })).toThrow(PhantomOptionError);
    expect(() => generateStudy({ seed: 1, sagittalSlices: 0 })).toThrow(/sagittalSlices/);
    expect(() => generateStudy({ seed: 1, transferSyntaxUid: '1.2.840.10008.1.2.4.50' })).toThrow(/not supported/);
  });
});

describe('truth and label', () => {
  it('labels a bulge-only study healthy and a protrusion ldh; fixed levels pin the others to none', () => {
    const bulge = generateStudy({ seed: 3, matrix: 64, levels: { 'L4-L5': 'bulge' } });
    expect(bulge.label).toBe('healthy');
    expect(bulge.levels.map((l) => l.grade)).toEqual(['none', 'none', 'none', 'bulge', 'none']);
    const prot = generateStudy({ seed: 3, matrix: 64, levels: { 'L5-S1': { grade: 'protrusion', position: 'paracentral-left', sizeMm: 5 } } });
    expect(prot.label).toBe('ldh');
    expect(prot.levels[4]).toMatchObject({ level: 'L5-S1', grade: 'protrusion', position: 'paracentral-left', sizeMm: 5 });
  });

  it('draws positives and negatives by difficulty when no level is fixed', () => {
    const levelHits = new Map<string, number>();
    for (let seed = 0; seed < 200; seed++) {
      const pos = drawLevels(new Prng(seed), 'hard', undefined, true);
      expect(studyLabel(pos)).toBe('ldh');
      for (const l of pos) expect(l.grade).not.toBe('extrusion');
      for (const l of pos.filter((x) => x.grade === 'protrusion')) {
        expect(l.sizeMm).toBeLessThanOrEqual(4);
        levelHits.set(l.level, (levelHits.get(l.level) ?? 0) + 1);
      }
      const neg = drawLevels(new Prng(seed), 'hard', undefined, false);
      expect(studyLabel(neg)).toBe('healthy');
      expect(neg.some((l) => l.grade === 'bulge')).toBe(true);
      const easy = drawLevels(new Prng(seed), 'easy', undefined, true);
      for (const l of easy.filter((x) => x.grade === 'protrusion' || x.grade === 'extrusion')) expect(l.sizeMm).toBeGreaterThanOrEqual(4);
    }
    // Herniations cluster at the two lowest levels.
    const low = (levelHits.get('L4-L5') ?? 0) + (levelHits.get('L5-S1') ?? 0);
    const total = [...levelHits.values()].reduce((a, b) => a + b, 0);
    expect(low / total).toBeGreaterThan(0.6);
    const st = generateStudy({ seed: 8, matrix: 64, sagittalSlices: 11, axialSlicesPerLevel: 3, positive: true });
    expect(st.label).toBe('ldh');
  });
});

describe('herniation visibility', () => {
  // Same seed and the same degeneration: the only difference is the L4-L5 herniation.
  const base: Partial<LevelTruth> = { degeneration: 0.5, position: 'central' };
  const opts = { seed: 21, matrix: 128, sagittalSlices: 11, axialSlicesPerLevel: 3 } as const;
  const none = generateStudy({ ...opts, levels: { 'L4-L5': { ...base, grade: 'none' } } });
  const extr = generateStudy({ ...opts, levels: { 'L4-L5': { ...base, grade: 'extrusion', sizeMm: 8 } } });

  /**
   * A point in the anterior spinal canal behind a disc: ~21 mm behind the disc centre along the
   * posterior in-plane direction of that level's axial stack (the disc's own posterior normal).
   */
  function canalBehind(st: PhantomStudy, level: 'L4-L5'): V3 {
    const ax = byRole(st, 't2_ax');
    const g = geometry(ax[ax.length / 3 + 1] as PhantomInstance);
    const disc = st.discCentres[level];
    return [0, 1, 2].map((i) => (disc[i] ?? 0) + 21 * (g.col[i] ?? 0)) as V3;
  }

  /** Mean |difference| of two instances inside / outside a radius around a patient point. */
  function diffNear(a: PhantomInstance, b: PhantomInstance, centre: V3, radius: number): { near: number; far: number; meanA: number; meanB: number } {
    const g = geometry(a);
    const pa = pixelsOf(a);
    const pb = pixelsOf(b);
    let near = 0;
    let nNear = 0;
    let far = 0;
    let nFar = 0;
    let sa = 0;
    let sb = 0;
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        const p = [0, 1, 2].map((i) => (g.ipp[i] ?? 0) + c * g.ps * (g.row[i] ?? 0) + r * g.ps * (g.col[i] ?? 0)) as V3;
        const i = r * g.cols + c;
        const d = Math.abs((pa[i] ?? 0) - (pb[i] ?? 0));
        if (norm(sub(p, centre)) < radius) {
          near += d;
          nNear++;
          sa += pa[i] ?? 0;
          sb += pb[i] ?? 0;
        } else {
          far += d;
          nFar++;
        }
      }
    }
    return { near: near / nNear, far: far / nFar, meanA: sa / nNear, meanB: sb / nNear };
  }

  it('changes the mid-sagittal T2 only around the L4-L5 disc, darkening the canal there', () => {
    const t2n = byRole(none, 't2_sag');
    const t2e = byRole(extr, 't2_sag');
    const mid = Math.floor(t2n.length / 2);
    const d = diffNear(t2n[mid] as PhantomInstance, t2e[mid] as PhantomInstance, canalBehind(none, 'L4-L5'), 6);
    expect(d.near).toBeGreaterThan(50 * d.far + 10);
    expect(d.meanB).toBeLessThan(d.meanA * 0.9);
  });

  it('shows the extrusion on the axial L4-L5 stack and nowhere else', () => {
    const axN = byRole(none, 't2_ax');
    const axE = byRole(extr, 't2_ax');
    const per = axN.length / 3;
    const l45 = diffNear(axN[per + 1] as PhantomInstance, axE[per + 1] as PhantomInstance, canalBehind(none, 'L4-L5'), 6);
    expect(l45.near).toBeGreaterThan(10 * l45.far + 10);
    expect(l45.meanB).toBeLessThan(l45.meanA * 0.9);
    const l34 = pixelsOf(axN[1] as PhantomInstance);
    expect(pixelsOf(axE[1] as PhantomInstance)).toEqual(l34);
  });

  it('puts a paracentral-left herniation on the patient-left side (+x) of the axial images', () => {
    const left = generateStudy({ ...opts, levels: { 'L4-L5': { ...base, grade: 'protrusion', position: 'paracentral-left', sizeMm: 6 } } });
    const per = byRole(none, 't2_ax').length / 3;
    const a = byRole(none, 't2_ax')[per + 1] as PhantomInstance;
    const b = byRole(left, 't2_ax')[per + 1] as PhantomInstance;
    const g = geometry(a);
    const pa = pixelsOf(a);
    const pb = pixelsOf(b);
    let w = 0;
    let wx = 0;
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        const d = Math.abs((pa[r * g.cols + c] ?? 0) - (pb[r * g.cols + c] ?? 0));
        w += d;
        wx += d * (g.ipp[0] + c * g.ps * g.row[0] + r * g.ps * g.col[0]);
      }
    }
    expect(w).toBeGreaterThan(0);
    expect(wx / w).toBeGreaterThan(none.discCentres['L4-L5'][0] + 2);
  });
});
