import { uidFromName } from '@ldh/dicom';
import type { Anatomy } from './anatomy.js';
import { encodeEnhancedMr } from './enhanced-writer.js';
import type { EnhancedFrame } from './enhanced-writer.js';
import { encodeMrImage } from './mr-writer.js';
import type { SeriesHeader, StudyHeader } from './mr-writer.js';
import { add, degradation, dot, planAround, planCentre } from './planning.js';
import type { PlannedSlice } from './planning.js';
import type { Prng } from './prng.js';
import { classicExtras, encodeSecondaryCapture, profileRawText } from './profile-writer.js';
import { expectedRouting } from './profiles/index.js';
import type { SeriesDef, SeriesKind, VendorProfile } from './profiles/types.js';
import { acquire, autoWindow, sampleSlab } from './render.js';
import type { SliceSignal, Vec3 } from './render.js';
import type { TissueEvaluator } from './tissue.js';
import { ENHANCED_MR_IMAGE_STORAGE, MR_IMAGE_STORAGE, SECONDARY_CAPTURE_IMAGE_STORAGE } from './transfer-syntax.js';
import type { PhantomInstance, PhantomSeries, SeriesRole } from './types.js';

/** What study.ts has built before the series are written (the same body and primary images as the generic profile). */
export interface ProfileContext {
  profile: VendorProfile;
  /** The profile's own random stream: drawing from it leaves the generic streams untouched. */
  prng: Prng;
  anatomy: Anatomy;
  evaluator: TissueEvaluator;
  difficulty: 'easy' | 'hard';
  matrix: number;
  tsUid: string;
  study: StudyHeader;
  uidBase: string;
  seriesTime: (offsetMin: number) => string;
  sag: PlannedSlice[];
  ax: PlannedSlice[];
  sagSignals: SliceSignal[];
  t1Pixels: Uint16Array[];
  t2Pixels: Uint16Array[];
  axPixels: Uint16Array[];
}

interface Rendered {
  slices: PlannedSlice[];
  pixels: Uint16Array[];
  /** Stack of each slice (axial block or localizer plane), 1-based. */
  stacks: number[];
}

const ROLE_OF: Partial<Record<SeriesKind, SeriesRole>> = { t1_sag: 't1_sag', t2_sag: 't2_sag', t2_ax: 't2_ax' };

/** 3-plane localizer: 3 sagittal, 3 coronal and 3 axial slices, 8 mm, 400 mm field, coarser matrix. */
function planLocalizer(anatomy: Anatomy, matrix: number): { slices: PlannedSlice[]; stacks: number[] } {
  const m = Math.max(64, Math.round(matrix / 2 / 2) * 2);
  const s = anatomy.discCentres[3] ?? 60;
  const [cy, cz] = anatomy.curve.pointAt(s);
  const c: Vec3 = [anatomy.xMid, cy + 20, cz];
  const planes: Array<[Vec3, Vec3, Vec3]> = [
    [[0, 1, 0], [0, 0, -1], [1, 0, 0]],
    [[1, 0, 0], [0, 0, -1], [0, 1, 0]],
    [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  ];
  const slices: PlannedSlice[] = [];
  const stacks: number[] = [];
  planes.forEach(([row, col, normal], p) => {
    for (const off of [-12, 0, 12]) {
      slices.push({ plan: planAround(add(c, normal, off), row, col, m, 400), thickness: 8, spacing: 12, normal });
      stacks.push(p + 1);
    }
  });
  return { slices, stacks };
}

/** Coronal T2 through the canal and the posterior elements: 9 slices, 4 mm, 300 mm field. */
function planCoronal(anatomy: Anatomy, matrix: number): PlannedSlice[] {
  const s = anatomy.discCentres[2] ?? 80;
  const [cy, cz] = anatomy.curve.pointAt(s);
  const row: Vec3 = [1, 0, 0];
  const col: Vec3 = [0, 0, -1];
  const normal: Vec3 = [0, 1, 0];
  return Array.from({ length: 9 }, (_, k) => ({
    plan: planAround([anatomy.xMid, cy + 2 + k * 4.4, cz - 40], row, col, matrix, 300),
    thickness: 4,
    spacing: 4.4,
    normal,
  }));
}

/** STIR contrast from the two weightings: fat (bright on T1 and T2) is nulled, fluid stays bright. */
function stirSignal(sig: SliceSignal): Float32Array {
  const out = new Float32Array(sig.t2.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, (sig.t2[i] ?? 0) - 0.7 * (sig.t1[i] ?? 0)) * 1.6;
  return out;
}

function render(ctx: ProfileContext, kind: SeriesKind, noise: Prng): Rendered {
  const { sag, anatomy, evaluator, difficulty } = ctx;
  const sagStacks = sag.map(() => 1);
  const reacquire = (signals: Float32Array[], ghost?: number): Uint16Array[] => {
    const deg = degradation(ctx.prng, difficulty, planCentre(sag), 'COL');
    if (ghost !== undefined) deg.ghost = ghost;
    return signals.map((s, k) => acquire(s, (sag[k] ?? sag[0]!).plan, deg, noise));
  };
  const central = (n: number): number[] => {
    const mid = Math.floor(sag.length / 2);
    return Array.from({ length: Math.min(n, sag.length) }, (_, k) => mid - Math.floor(Math.min(n, sag.length) / 2) + k);
  };
  switch (kind) {
    case 't1_sag':
      return { slices: sag, pixels: ctx.t1Pixels, stacks: sagStacks };
    case 't2_sag':
      return { slices: sag, pixels: ctx.t2Pixels, stacks: sagStacks };
    case 't2_ax': {
      const levels = [...new Set(ctx.ax.map((s) => s.level))];
      return { slices: ctx.ax, pixels: ctx.axPixels, stacks: ctx.ax.map((s) => levels.indexOf(s.level) + 1) };
    }
    case 't2_sag_first':
      // The first attempt moved: a strong phase-encoding ghost is why the technologist repeated it.
      return { slices: sag, pixels: reacquire(ctx.sagSignals.map((s) => s.t2), 0.08), stacks: sagStacks };
    case 't1_sag_post':
      return { slices: sag, pixels: reacquire(ctx.sagSignals.map((s) => s.t1.map((v) => v * 1.15))), stacks: sagStacks };
    case 'stir_sag':
      return { slices: sag, pixels: reacquire(ctx.sagSignals.map(stirSignal)), stacks: sagStacks };
    case 'mpr':
    case 'myelo_sc': {
      const idx = central(kind === 'mpr' ? 5 : 3);
      return { slices: idx.map((k) => sag[k]!), pixels: idx.map((k) => ctx.t2Pixels[k]!), stacks: idx.map(() => 1) };
    }
    case 't2_cor': {
      const slices = planCoronal(anatomy, ctx.matrix);
      const deg = degradation(ctx.prng, difficulty, planCentre(slices), 'ROW');
      return { slices, pixels: slices.map((sl) => acquire(sampleSlab(anatomy, evaluator, sl.plan, sl.normal, sl.thickness).t2, sl.plan, deg, noise)), stacks: slices.map(() => 1) };
    }
    case 'localizer': {
      const { slices, stacks } = planLocalizer(anatomy, ctx.matrix);
      const deg = degradation(ctx.prng, difficulty, planCentre(slices), 'COL');
      const pixels = slices.map((sl) => {
        const sig = sampleSlab(anatomy, evaluator, sl.plan, sl.normal, sl.thickness);
        const mixed = sig.t1.map((v, i) => 0.5 * v + 0.5 * (sig.t2[i] ?? 0));
        return acquire(mixed, sl.plan, deg, noise);
      });
      return { slices, pixels, stacks };
    }
  }
}

function seriesHeader(ctx: ProfileContext, def: SeriesDef, offsetMin: number, pixels: Uint16Array[]): SeriesHeader {
  const { seq } = def;
  const p = ctx.prng;
  const mid = pixels[Math.floor(pixels.length / 2)];
  const win = mid ? autoWindow(mid) : { center: 1024, width: 2048 };
  return {
    seriesInstanceUid: uidFromName(`${ctx.uidBase}:series:${def.seriesNumber}:${def.kind}`),
    seriesNumber: def.seriesNumber,
    seriesDescription: seq.description ?? '',
    seriesTime: ctx.seriesTime(offsetMin),
    repetitionTime: Math.round(p.uniform(seq.tr[0], seq.tr[1]) * 10) / 10,
    echoTime: Math.round(p.uniform(seq.te[0], seq.te[1]) * 10) / 10,
    echoTrainLength: p.int(seq.etl[0], seq.etl[1]),
    flipAngle: seq.flipAngle,
    pixelBandwidth: Math.round(p.uniform(130, 260)),
    sequenceName: seq.sequenceName,
    phaseEncodingDirection: def.kind === 't2_ax' || def.kind === 't2_cor' ? 'ROW' : 'COL',
    windowCenter: win.center,
    windowWidth: win.width,
    numberOfAverages: def.kind.startsWith('t1') ? 2 : 1,
  };
}

const iop = (sl: PlannedSlice): [number, number, number, number, number, number] =>
  [...sl.plan.rowDir, ...sl.plan.colDir].map((v) => Math.round(v * 1e6) / 1e6) as [number, number, number, number, number, number];

/**
 * Writes every series of a vendor profile: the three primary series (the same images as the
 * generic profile) and the profile's distractors, as classic MR, Enhanced MR or Secondary
 * Capture instances, with the expected routing of each series.
 */
export function emitProfileSeries(ctx: ProfileContext): { instances: PhantomInstance[]; series: PhantomSeries[] } {
  const { profile, study, tsUid } = ctx;
  const rawText = profileRawText(profile);
  const noise = ctx.prng.fork(9);
  const instances: PhantomInstance[] = [];
  const series: PhantomSeries[] = [];
  profile.series.forEach((def, k) => {
    const offsetMin = 2 + 4 * k;
    const r = render(ctx, def.kind, noise);
    const header = seriesHeader(ctx, def, offsetMin, r.pixels);
    const role = ROLE_OF[def.kind] ?? null;
    const seriesDir = `${String(def.seriesNumber).padStart(3, '0')}-${def.kind}`;
    const base = { role, kind: def.kind, seriesDir, seriesInstanceUid: header.seriesInstanceUid };
    const uidOf = (n: number): string => uidFromName(`${ctx.uidBase}:instance:${def.seriesNumber}:${def.kind}:${n}`);
    const first = r.slices[0]!;
    let sopClassUid = MR_IMAGE_STORAGE;
    if (def.kind === 'myelo_sc') {
      sopClassUid = SECONDARY_CAPTURE_IMAGE_STORAGE;
      r.pixels.forEach((pixels, j) => {
        const sopInstanceUid = uidOf(j + 1);
        const img = { sopInstanceUid, seriesInstanceUid: header.seriesInstanceUid, seriesNumber: def.seriesNumber, instanceNumber: j + 1, seriesTime: header.seriesTime, rows: first.plan.rows, cols: first.plan.cols, pixels, windowCenter: header.windowCenter, windowWidth: header.windowWidth };
        instances.push({ ...base, frames: 1, sopInstanceUid, instanceNumber: j + 1, bytes: encodeSecondaryCapture(profile, study, img, tsUid, rawText) });
      });
    } else if (profile.enhanced && def.kind !== 'mpr') {
      sopClassUid = ENHANCED_MR_IMAGE_STORAGE;
      const sopInstanceUid = uidOf(1);
      const inStack = new Map<number, number>();
      const frames: EnhancedFrame[] = r.slices.map((sl, j) => {
        const stackId = r.stacks[j] ?? 1;
        const pos = (inStack.get(stackId) ?? 0) + 1;
        inStack.set(stackId, pos);
        return { imagePositionPatient: sl.plan.position, imageOrientationPatient: iop(sl), stackId, inStackPosition: pos, pixels: r.pixels[j]! };
      });
      const spec = {
        sopInstanceUid,
        rows: first.plan.rows,
        cols: first.plan.cols,
        pixelSpacing: first.plan.pixelSpacing,
        sliceThickness: first.thickness,
        spacingBetweenSlices: first.spacing,
        acquisitionDateTime: `${study.studyDate}${header.seriesTime}`,
        frames,
      };
      const bytes = encodeEnhancedMr(profile, study, header, def.seq, def.kind, spec, tsUid, rawText);
      const frameLevels = r.slices.map((sl) => sl.level);
      instances.push({ ...base, frames: frames.length, ...(def.kind === 't2_ax' ? { frameLevels } : {}), sopInstanceUid, instanceNumber: 1, bytes });
    } else {
      const extras = classicExtras(profile, def.kind, def.seq, tsUid, rawText);
      r.slices.forEach((sl, j) => {
        const p = sl.plan;
        const sopInstanceUid = uidOf(j + 1);
        const centre = add(add(p.position, p.rowDir, ((p.cols - 1) / 2) * p.pixelSpacing), p.colDir, ((p.rows - 1) / 2) * p.pixelSpacing);
        const bytes = encodeMrImage(
          study,
          header,
          {
            sopInstanceUid,
            instanceNumber: j + 1,
            rows: p.rows,
            cols: p.cols,
            pixelSpacing: [p.pixelSpacing, p.pixelSpacing],
            imagePositionPatient: p.position,
            imageOrientationPatient: iop(sl),
            sliceThickness: sl.thickness,
            spacingBetweenSlices: sl.spacing,
            sliceLocation: Math.round(dot(centre, sl.normal) * 100) / 100,
            acquisitionTime: ctx.seriesTime(offsetMin + 1),
            pixels: r.pixels[j]!,
          },
          tsUid,
          extras,
        );
        instances.push({ ...base, frames: 1, sopInstanceUid, instanceNumber: j + 1, ...(sl.level ? { level: sl.level } : {}), bytes });
      });
    }
    const written = instances.filter((i) => i.seriesInstanceUid === header.seriesInstanceUid);
    const expected = expectedRouting(profile, def);
    series.push({
      seriesInstanceUid: header.seriesInstanceUid,
      seriesNumber: def.seriesNumber,
      seriesDescription: header.seriesDescription,
      kind: def.kind,
      sopClassUid,
      instanceCount: written.length,
      frameCount: written.reduce((a, i) => a + i.frames, 0),
      expectedRole: expected.role,
      why: expected.why,
    });
  });
  return { instances, series };
}
