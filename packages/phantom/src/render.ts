import type { Anatomy } from './anatomy.js';
import type { Prng } from './prng.js';
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
  const [px, , ] = plan.position;
  const ps = plan.pixelSpacing;
  for (let r = 0; r < plan.rows; r++) {
    for (let c = 0; c < plan.cols; c++) {
      const i = r * plan.cols + c;
      const x = px + ps * (c * plan.rowDir[0] + r * plan.colDir[0]) - anatomy.xMid;
      evaluator.evaluate(map[2 * i] ?? 0, map[2 * i + 1] ?? 0, x);
      t1[i] = evaluator.t1;
      t2[i] = evaluator.t2;
    }
  }
  return { t1, t2 };
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
}

const MAX_STORED = 4095;

/**
 * Turns a noise-free signal into stored pixels: a small point-spread blur (partial volume),
 * a smooth coil bias field, intensity scaling and Rician noise (magnitude of complex Gaussian).
 */
export function acquire(signal: Float32Array, plan: SlicePlan, deg: Degradation, prng: Prng): Uint16Array {
  const { rows, cols } = plan;
  const blurred = blur3(signal, rows, cols);
  const out = new Uint16Array(rows * cols);
  const sigma = deg.noise * deg.scale;
  const ps = plan.pixelSpacing;
  const [p0, p1, p2] = plan.position;
  const [cx, cy, cz] = deg.centre;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const x = p0 + ps * (c * plan.rowDir[0] + r * plan.colDir[0]) - cx;
      const y = p1 + ps * (c * plan.rowDir[1] + r * plan.colDir[1]) - cy;
      const z = p2 + ps * (c * plan.rowDir[2] + r * plan.colDir[2]) - cz;
      const gain = Math.exp(deg.biasY * (y / 100) + deg.biasZ * (z / 100) - deg.biasX2 * (x / 100) * (x / 100));
      const a = (blurred[i] ?? 0) * deg.scale * gain;
      const re = a + sigma * prng.normal();
      const im = sigma * prng.normal();
      let v = Math.sqrt(re * re + im * im);
      if (v > MAX_STORED) v = MAX_STORED;
      out[i] = Math.round(v);
    }
  }
  return out;
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
