import type { Anatomy } from './anatomy.js';
import { Prng } from './prng.js';
import type { TissueEvaluator } from './tissue.js';

export type Vec3 = [number, number, number];

/** Geometry of one slice in patient coordinates (LPS, mm). */
export interface SlicePlan {
  rows: number;
  cols: number;
  /** Square pixels (mm). */
  pixelSpacing: number;
  /** Centre of the first transmitted pixel. */
  position: Vec3;
  /** Direction of increasing column index (first IOP triplet). */
  rowDir: Vec3;
  /** Direction of increasing row index (second IOP triplet). */
  colDir: Vec3;
}

/** Noise-free signal of one slice for both weightings. */
export interface SliceSignal {
  t1: Float32Array;
  t2: Float32Array;
}

/**
 * Samples the phantom on a slice. Sagittal slices share one (s, t) map, since the spine curve lies
 * in the mid-sagittal plane and only x changes between them; pass it as `stMap` to skip projection.
 */
export function sampleSlice(anatomy: Anatomy, evaluator: TissueEvaluator, plan: SlicePlan, stMap?: Float64Array): SliceSignal {
  const n = plan.rows * plan.cols;
  const t1 = new Float32Array(n);
  const t2 = new Float32Array(n);
  const map = stMap ?? projectSlice(anatomy, plan);
  const [px, py] = plan.position;
  const ps = plan.pixelSpacing;
  for (let r = 0; r < plan.rows; r++) {
    for (let c = 0; c < plan.cols; c++) {
      const i = r * plan.cols + c;
      const x = px + ps * (c * plan.rowDir[0] + r * plan.colDir[0]) - anatomy.xMid;
      const y = py + ps * (c * plan.rowDir[1] + r * plan.colDir[1]);
      evaluator.evaluate(map[2 * i] ?? 0, map[2 * i + 1] ?? 0, x, y);
      t1[i] = evaluator.t1;
      t2[i] = evaluator.t2;
    }
  }
  return { t1, t2 };
}

/**
 * Samples a slice of finite thickness: the mean of two planes a quarter-thickness either side of
 * the slice centre, so thin structures cut obliquely (roots, cortex, a paracentral herniation at
 * the slice edge) show partial volume as on a real 3-4 mm slice.
 */
export function sampleSlab(anatomy: Anatomy, evaluator: TissueEvaluator, plan: SlicePlan, normal: Vec3, thickness: number, stMap?: Float64Array): SliceSignal {
  const inPlane = normal[1] === 0 && normal[2] === 0;
  let acc: SliceSignal | undefined;
  for (const k of [-0.25, 0.25]) {
    const o = k * thickness;
    const sub: SlicePlan = { ...plan, position: [plan.position[0] + o * normal[0], plan.position[1] + o * normal[1], plan.position[2] + o * normal[2]] };
    const sig = sampleSlice(anatomy, evaluator, sub, inPlane ? stMap : undefined);
    if (!acc) {
      acc = sig;
      continue;
    }
    for (let i = 0; i < sig.t1.length; i++) {
      acc.t1[i] = 0.5 * ((acc.t1[i] ?? 0) + (sig.t1[i] ?? 0));
      acc.t2[i] = 0.5 * ((acc.t2[i] ?? 0) + (sig.t2[i] ?? 0));
    }
  }
  return acc ?? sampleSlice(anatomy, evaluator, plan, stMap);
}

/** (s, t) of every pixel of a slice, interleaved. */
export function projectSlice(anatomy: Anatomy, plan: SlicePlan): Float64Array {
  const n = plan.rows * plan.cols;
  const out = new Float64Array(2 * n);
  const tmp = new Float64Array(2);
  const [, py, pz] = plan.position;
  const ps = plan.pixelSpacing;
  for (let r = 0; r < plan.rows; r++) {
    for (let c = 0; c < plan.cols; c++) {
      const y = py + ps * (c * plan.rowDir[1] + r * plan.colDir[1]);
      const z = pz + ps * (c * plan.rowDir[2] + r * plan.colDir[2]);
      anatomy.curve.project(y, z, tmp);
      const i = r * plan.cols + c;
      out[2 * i] = tmp[0] ?? 0;
      out[2 * i + 1] = tmp[1] ?? 0;
    }
  }
  return out;
}

/** Acquisition-like degradation of one series. */
export interface Degradation {
  /** Signal 1.0 maps to this stored value. */
  scale: number;
  /** Noise standard deviation relative to `scale`. */
  noise: number;
  /** Bias field: log-gain per 100 mm along patient y (posterior), z, and a quadratic in x. */
  biasY: number;
  biasZ: number;
  biasX2: number;
  /** Bias field centre (patient mm). */
  centre: Vec3;
  /** Amplitude of a motion ghost (a faint copy shifted by half the field along phase encoding). */
  ghost: number;
  /** Phase-encoding axis: 'COL' ghosts along the columns (vertically), 'ROW' along the rows. */
  phaseAxis: 'ROW' | 'COL';
}

const MAX_STORED = 4095;

/**
 * Turns a noise-free signal into stored pixels: a small point-spread blur (partial volume),
 * a smooth coil bias field, intensity scaling and Rician noise (magnitude of complex Gaussian).
 */
export function acquire(signal: Float32Array, plan: SlicePlan, deg: Degradation, prng: Prng): Uint16Array {
  const { rows, cols } = plan;
  const blurred = blur3(signal, rows, cols);
  if (deg.ghost > 0) addGhost(blurred, rows, cols, deg.ghost, deg.phaseAxis);
  const out = new Uint16Array(rows * cols);
  const sigma = deg.noise * deg.scale;
  const ps = plan.pixelSpacing;
  const [p0, p1, p2] = plan.position;
  const [cx, cy, cz] = deg.centre;
  const rd = plan.rowDir;
  const cd = plan.colDir;
  // The log-gain is linear in y and z, so it splits into a per-column and a per-row factor;
  // the quadratic x term does too whenever x varies along only one image axis (all our plans).
  const colGain = new Float64Array(cols);
  const rowGain = new Float64Array(rows);
  const x0 = p0 - cx;
  const separableX = rd[0] === 0 || cd[0] === 0;
  for (let c = 0; c < cols; c++) {
    const x = x0 + ps * c * rd[0];
    const lin = deg.biasY * ((ps * c * rd[1]) / 100) + deg.biasZ * ((ps * c * rd[2]) / 100);
    colGain[c] = Math.exp(lin - (cd[0] === 0 ? deg.biasX2 * (x / 100) * (x / 100) : 0));
  }
  for (let r = 0; r < rows; r++) {
    const lin = deg.biasY * ((p1 - cy + ps * r * cd[1]) / 100) + deg.biasZ * ((p2 - cz + ps * r * cd[2]) / 100);
    const x = x0 + ps * r * cd[0];
    rowGain[r] = Math.exp(lin - (cd[0] !== 0 && rd[0] === 0 ? deg.biasX2 * (x / 100) * (x / 100) : 0));
  }
  const table = gaussianTable();
  for (let r = 0; r < rows; r++) {
    const rg = (rowGain[r] ?? 1) * deg.scale;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      let gain = rg * (colGain[c] ?? 1);
      if (!separableX) {
        const x = x0 + ps * (c * rd[0] + r * cd[0]);
        gain *= Math.exp(-deg.biasX2 * (x / 100) * (x / 100));
      }
      const a = (blurred[i] ?? 0) * gain;
      // One 32-bit draw gives two table indices: the real and imaginary noise (Rician magnitude).
      const u = prng.nextUint32();
      const re = a + sigma * (table[u & 0xffff] ?? 0);
      const im = sigma * (table[u >>> 16] ?? 0);
      let v = Math.sqrt(re * re + im * im);
      if (v > MAX_STORED) v = MAX_STORED;
      out[i] = Math.round(v);
    }
  }
  return out;
}

/** Adds a copy of the image shifted by half the field along the phase-encoding axis (in place). */
function addGhost(img: Float32Array, rows: number, cols: number, amplitude: number, axis: 'ROW' | 'COL'): void {
  const src = img.slice();
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const j = axis === 'COL' ? ((r + (rows >> 1)) % rows) * cols + c : r * cols + ((c + (cols >> 1)) % cols);
      img[r * cols + c] = (img[r * cols + c] ?? 0) + amplitude * (src[j] ?? 0);
    }
  }
}

let gaussians: Float32Array | undefined;

/**
 * 65,536 standard-normal quantiles in a fixed shuffled order: drawing noise by table index costs
 * one PRNG call per two values instead of a log, a sqrt and a sin/cos, and stays deterministic.
 */
function gaussianTable(): Float32Array {
  if (gaussians) return gaussians;
  const n = 65536;
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = inverseNormal((i + 0.5) / n);
  const shuffle = new Prng(0x6a55);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(shuffle.next() * (i + 1));
    const tmp = t[i] ?? 0;
    t[i] = t[j] ?? 0;
    t[j] = tmp;
  }
  gaussians = t;
  return t;
}

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - pl) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/** Separable [1 2 1]/4 blur: the point-spread of a real acquisition, softening hard model edges. */
function blur3(src: Float32Array, rows: number, cols: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) {
      const l = src[o + (c > 0 ? c - 1 : c)] ?? 0;
      const m = src[o + c] ?? 0;
      const rr = src[o + (c < cols - 1 ? c + 1 : c)] ?? 0;
      tmp[o + c] = 0.25 * l + 0.5 * m + 0.25 * rr;
    }
  }
  for (let r = 0; r < rows; r++) {
    const up = (r > 0 ? r - 1 : r) * cols;
    const dn = (r < rows - 1 ? r + 1 : r) * cols;
    const o = r * cols;
    for (let c = 0; c < cols; c++) {
      out[o + c] = 0.25 * (tmp[up + c] ?? 0) + 0.5 * (tmp[o + c] ?? 0) + 0.25 * (tmp[dn + c] ?? 0);
    }
  }
  return out;
}

/** Window centre/width from the bright end of the histogram, as scanners set them. */
export function autoWindow(pixels: Uint16Array): { center: number; width: number } {
  const hist = new Uint32Array(MAX_STORED + 1);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] ?? 0;
    hist[v] = (hist[v] ?? 0) + 1;
  }
  const target = pixels.length * 0.995;
  let acc = 0;
  let p = MAX_STORED;
  for (let v = 0; v <= MAX_STORED; v++) {
    acc += hist[v] ?? 0;
    if (acc >= target) {
      p = v;
      break;
    }
  }
  const width = Math.max(64, Math.round(p * 1.05));
  return { center: Math.round(width / 2), width };
}
