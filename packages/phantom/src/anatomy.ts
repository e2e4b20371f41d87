import { SpineCurve } from './curve.js';
import type { Prng } from './prng.js';
import type { LevelTruth } from './types.js';

/**
 * Parametric lumbar anatomy in straightened coordinates: s (mm along the spine, 0 = S1 upper
 * endplate, increasing cranially), t (mm posterior of the vertebral-body centre line) and x (mm to
 * the patient's left, 0 = mid-sagittal). Everything random about one body is drawn here once, so
 * sagittal and axial images of the study show the same spine.
 */

/** A vertebral body or a disc, a slab of the spine between sLo and sHi. */
export interface Segment {
  kind: 'body' | 'disc';
  name: string;
  sLo: number;
  sHi: number;
  /** Lumbar disc truth (discs L1-L2..L5-S1 only). */
  truth?: LevelTruth;
  /** Disc hydration 0..1 (drives the nucleus T2 signal). */
  hydration: number;
  /** Sacral segments are fused: their "discs" are thin remnants. */
  sacral: boolean;
  /** Modic endplate change beside a degenerated disc: 0 none, 1 oedema (T1 dark, T2 bright), 2 fatty (both bright). */
  modic?: 0 | 1 | 2;
}

export interface Herniation {
  grade: LevelTruth['grade'];
  /** Lateral centre (mm, + = patient left). */
  xc: number;
  /** Posterior extension (mm). */
  depth: number;
  /** Base half-width in x (mm). */
  halfWidth: number;
  /** Cranio-caudal half-extent at the base (mm). */
  halfHeight: number;
  /** Disc mid-height s (mm). */
  sc: number;
  /** Cranial (+) / caudal (-) migration of an extrusion's tip (mm). */
  migration: number;
}

export interface Anatomy {
  curve: SpineCurve;
  /** Patient x of the mid-sagittal plane (mm). */
  xMid: number;
  segments: Segment[];
  herniations: Herniation[];
  /** Disc mid-height s of L1-L2..L5-S1 (the axial stacks are planned on these). */
  discCentres: number[];
  /** Body depth and width (mm) as functions of s. */
  depthAt: (s: number) => number;
  widthAt: (s: number) => number;
  canalDepth: number;
  canalHalfWidth: number;
  muscleDepth: number;
  fatPosterior: number;
  bodyHalfWidth: number;
  spinousLength: number;
  /** s of the conus medullaris tip and of the thecal sac end. */
  conusS: number;
  sacEndS: number;
  /** Lateral positions (mm) and posterior fractions of the cauda equina roots. */
  roots: Array<{ x: number; f: number; r: number }>;
  /** Patient y (mm) of the table: the skin of the back lies on it. */
  tableY: number;
  /** Antero-posterior depth of the abdomen (mm). */
  abdomenDepth: number;
  noiseSeed: number;
  /** Texture strength (marrow heterogeneity, bowel content). */
  marrowTexture: number;
  /** Modic-like / fatty marrow brightness factor for T1. */
  marrowT1: number;
  marrowT2: number;
}

const LUMBAR_BODY_HEIGHT = [26, 27, 28, 28, 27]; // L1..L5
const LUMBAR_DISC_HEIGHT = [8, 9, 10, 11, 10.5]; // L1-L2..L5-S1
const LUMBAR_DEPTH = [31, 33, 34, 35, 35];
const LUMBAR_WIDTH = [42, 45, 47, 50, 52];

/** Draws one body from the seed and the level truths (index 0 = L1-L2). */
export function buildAnatomy(prng: Prng, truths: readonly LevelTruth[]): Anatomy {
  const scale = prng.uniform(0.88, 1.12);
  const segments: Segment[] = [];
  // Sacrum below S1's upper endplate: fused S1..S4 with thin remnant discs.
  let s = 0;
  const sacralHeights = [26, 20, 16, 13].map((h) => h * scale);
  for (let i = 0; i < sacralHeights.length; i++) {
    const h = sacralHeights[i] ?? 15;
    segments.unshift({ kind: 'body', name: `S${i + 1}`, sLo: s - h, sHi: s, hydration: 0, sacral: true });
    s -= h;
    const rem = 2 * scale;
    segments.unshift({ kind: 'disc', name: `S${i + 1}-S${i + 2}`, sLo: s - rem, sHi: s, hydration: 0, sacral: true });
    s -= rem;
  }
  // Lumbar discs and bodies upward from S1.
  s = 0;
  const discCentres: number[] = [];
  for (let k = 4; k >= 0; k--) {
    const truth = truths[k];
    const deg = truth?.degeneration ?? 0;
    const hd = (LUMBAR_DISC_HEIGHT[k] ?? 10) * scale * (1 - 0.45 * deg) * prng.uniform(0.92, 1.08);
    // Modic changes accompany degenerated discs; a child stream keeps the other draws in place.
    const mp = prng.fork(200 + k);
    const modic: 0 | 1 | 2 = deg > 0.45 && mp.chance(0.5 * deg) ? (mp.chance(0.35) ? 1 : 2) : 0;
    segments.push({ kind: 'disc', name: truth?.level ?? `L${k + 1}`, sLo: s, sHi: s + hd, hydration: 1 - deg, sacral: false, modic, ...(truth ? { truth } : {}) });
    discCentres[k] = s + hd / 2;
    s += hd;
    const hb = (LUMBAR_BODY_HEIGHT[k] ?? 27) * scale * prng.uniform(0.95, 1.05);
    segments.push({ kind: 'body', name: `L${k + 1}`, sLo: s, sHi: s + hb, hydration: 0, sacral: false });
    s += hb;
  }
  // Thoracic segments above, enough to fill any field of view.
  for (const [name, hb, hd] of [
    ['T12', 25, 7],
    ['T11', 24, 6],
    ['T10', 23, 6],
    ['T9', 22, 5.5],
  ] as const) {
    segments.push({ kind: 'disc', name: `${name}-`, sLo: s, sHi: s + hd * scale, hydration: prng.uniform(0.7, 1), sacral: false });
    s += hd * scale;
    segments.push({ kind: 'body', name, sLo: s, sHi: s + hb * scale, hydration: 0, sacral: false });
    s += hb * scale;
  }

  const depthScale = scale * prng.uniform(0.94, 1.06);
  const widthScale = scale * prng.uniform(0.94, 1.06);
  const bodyCentresS: number[] = [];
  const depths: number[] = [];
  const widths: number[] = [];
  const lumbarBodies = segments.filter((g) => g.kind === 'body' && g.name.startsWith('L'));
  const sacral = segments.filter((g) => g.kind === 'body' && g.sacral).reverse();
  const thoracic = segments.filter((g) => g.kind === 'body' && g.name.startsWith('T')).reverse();
  for (const g of [...sacral].reverse()) {
    const i = Number(g.name.slice(1)) - 1;
    bodyCentresS.push((g.sLo + g.sHi) / 2);
    depths.push([33, 26, 20, 15][i] ?? 15);
    widths.push([50, 40, 30, 22][i] ?? 22);
  }
  for (const g of lumbarBodies.slice().reverse()) {
    const i = Number(g.name.slice(1)) - 1;
    bodyCentresS.push((g.sLo + g.sHi) / 2);
    depths.push(LUMBAR_DEPTH[i] ?? 34);
    widths.push(LUMBAR_WIDTH[i] ?? 46);
  }
  for (const g of thoracic.slice().reverse()) {
    bodyCentresS.push((g.sLo + g.sHi) / 2);
    depths.push(29);
    widths.push(39);
  }
  // Sort by s (ascending) for interpolation.
  const order = bodyCentresS.map((v, i) => i).sort((a, b) => (bodyCentresS[a] ?? 0) - (bodyCentresS[b] ?? 0));
  const cs = order.map((i) => bodyCentresS[i] ?? 0);
  const dv = order.map((i) => (depths[i] ?? 30) * depthScale);
  const wv = order.map((i) => (widths[i] ?? 40) * widthScale);
  const depthAt = (q: number): number => interp(cs, dv, q);
  const widthAt = (q: number): number => interp(cs, wv, q);

  // Lordosis: tangent angle rises from -sacral slope at S1 to the thoraco-lumbar junction, with
  // the curvature weighted caudally; the sacrum curves the other way (concave anteriorly).
  // Supine on the table the lordosis is flatter than standing; it stays larger than the sacral slope.
  const sacralSlopeDeg = prng.uniform(22, 36);
  const sacralSlope = (sacralSlopeDeg * Math.PI) / 180;
  const lordosis = ((sacralSlopeDeg + prng.uniform(6, 20)) * Math.PI) / 180;
  const sTop = discCentres[0] !== undefined ? discCentres[0] + 30 * scale : 190;
  // Curvature weight w(q) = 1.35 - 0.7 q / sTop: larger caudally; its integral over [0, sTop] is wInt.
  const wInt = sTop * (1.35 - 0.35);
  // The lumbosacral angle: part of the lordosis bends at L5-S1, spread over ~36 mm of arc so the
  // straightened coordinates do not fold behind the spine.
  const lsAngle = Math.min(lordosis * 0.4, (prng.uniform(8, 14) * Math.PI) / 180);
  const lsLo = -10;
  const lsHi = 26;
  const smooth = (u: number): number => (u <= 0 ? 0 : u >= 1 ? 1 : u * u * (3 - 2 * u));
  const rest = lordosis - lsAngle;
  const alphaAt = (q: number): number => {
    const ls = lsAngle * smooth((q - lsLo) / (lsHi - lsLo));
    if (q <= 0) return -sacralSlope - lsAngle - 0.006 * q + ls;
    if (q <= sTop) {
      // integral of w from 0 to q
      const integral = 1.35 * q - (0.35 * q * q) / sTop;
      return -sacralSlope - lsAngle + ls + (rest * integral) / wInt;
    }
    return -sacralSlope + lordosis - 0.0025 * (q - sTop);
  };
  const anchorS = discCentres[2] ?? 80;
  const curve = new SpineCurve(alphaAt, -260, 520, 1, anchorS, prng.uniform(-15, 15), prng.uniform(-40, 40));

  const canalDepth = prng.uniform(14, 19) * scale;
  const canalHalfWidth = prng.uniform(10, 12.5) * scale;
  const herniations: Herniation[] = [];
  for (let k = 0; k < 5; k++) {
    const truth = truths[k];
    const sc = discCentres[k];
    if (!truth || sc === undefined || truth.grade === 'none') continue;
    const disc = segments.find((g) => g.truth === truth);
    const hd = disc ? disc.sHi - disc.sLo : 10;
    // A child stream per level: a herniation added at one level leaves the rest of the body as is.
    const hp = prng.fork(100 + k);
    const lateral = canalHalfWidth * hp.uniform(0.45, 0.6);
    const xc = truth.position === 'central' ? hp.uniform(-1, 1) : truth.position === 'paracentral-left' ? lateral : -lateral;
    const d = truth.sizeMm;
    if (truth.grade === 'bulge') {
      herniations.push({ grade: 'bulge', xc: 0, depth: d, halfWidth: 30, halfHeight: hd / 2 + 0.5, sc, migration: 0 });
    } else if (truth.grade === 'protrusion') {
      herniations.push({ grade: 'protrusion', xc, depth: d, halfWidth: 6 + 0.9 * d, halfHeight: hd / 2 + 0.3, sc, migration: 0 });
    } else {
      const migration = hp.chance(0.35) ? 0 : (hp.chance(0.65) ? -1 : 1) * hp.uniform(2, 7);
      herniations.push({ grade: 'extrusion', xc, depth: d, halfWidth: 5 + 0.35 * d, halfHeight: hd / 2, sc, migration });
    }
  }

  const roots: Array<{ x: number; f: number; r: number }> = [];
  // Cauda equina: two dorsal layers of roots (supine, they settle posteriorly), thickest near L1.
  const nRoots = prng.int(10, 14);
  for (let i = 0; i < nRoots; i++) {
    const u = (i + 0.5) / nRoots - 0.5;
    const layer = i % 2;
    roots.push({
      x: u * canalHalfWidth * 1.3 + prng.uniform(-0.6, 0.6),
      f: 0.58 + 0.3 * (1 - 4 * u * u) - 0.14 * layer + prng.uniform(-0.05, 0.05),
      r: prng.uniform(0.9, 1.3),
    });
  }
  const muscleDepth = prng.uniform(38, 55) * scale;
  const fatPosterior = prng.uniform(8, 30) * scale;
  // The table touches the back at the lordotic apex's depth behind the L3-L4 disc.
  const [ay, , ] = [...curve.pointAt(anchorS)];
  const [, atz] = curve.tangentAt(anchorS);
  const tBack = depthAt(anchorS) / 2 + canalDepth + muscleDepth * 0.95 + fatPosterior;
  const tableY = ay + tBack * atz;
  const abdomenDepth = prng.uniform(190, 290) * scale;
  const l1 = segments.find((g) => g.name === 'L1');
  const conusS = l1 ? l1.sLo + (l1.sHi - l1.sLo) * prng.uniform(0.1, 0.9) : 170;
  return {
    curve,
    xMid: prng.uniform(-4, 4),
    segments,
    herniations,
    discCentres,
    depthAt,
    widthAt,
    canalDepth,
    canalHalfWidth,
    muscleDepth,
    fatPosterior,
    tableY,
    abdomenDepth,
    bodyHalfWidth: prng.uniform(140, 185) * scale,
    spinousLength: prng.uniform(24, 32) * scale,
    conusS,
    sacEndS: -prng.uniform(28, 45),
    roots,
    noiseSeed: prng.int(1, 0x7fffffff),
    marrowTexture: prng.uniform(0.05, 0.14),
    marrowT1: prng.uniform(0.85, 1.1),
    marrowT2: prng.uniform(0.85, 1.15),
  };
}

function interp(xs: readonly number[], ys: readonly number[], q: number): number {
  const n = xs.length;
  if (n === 0) return 0;
  if (q <= (xs[0] ?? 0)) return ys[0] ?? 0;
  if (q >= (xs[n - 1] ?? 0)) return ys[n - 1] ?? 0;
  let i = 0;
  while (i < n - 2 && q > (xs[i + 1] ?? 0)) i++;
  const x0 = xs[i] ?? 0;
  const x1 = xs[i + 1] ?? 1;
  const w = (q - x0) / (x1 - x0);
  return (ys[i] ?? 0) + ((ys[i + 1] ?? 0) - (ys[i] ?? 0)) * w;
}
