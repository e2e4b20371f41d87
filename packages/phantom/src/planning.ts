import type { Anatomy } from './anatomy.js';
import { DISC_LEVELS } from './levels.js';
import type { Prng } from './prng.js';
import type { Degradation, SlicePlan, Vec3 } from './render.js';
import type { DiscLevel } from './types.js';

/** Disc indices (0 = L1-L2) that get an axial stack: L3-L4, L4-L5, L5-S1. */
export const AXIAL_DISCS = [2, 3, 4] as const;

/** A planned slice with its DICOM geometry. */
export interface PlannedSlice {
  plan: SlicePlan;
  thickness: number;
  spacing: number;
  normal: Vec3;
  /** Axial slices: the disc level of their stack. */
  level?: DiscLevel;
}

export function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

export function add(a: Vec3, b: Vec3, k: number): Vec3 {
  return [a[0] + b[0] * k, a[1] + b[1] * k, a[2] + b[2] * k];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/** A slice centred on `centre` with the given in-plane directions. */
export function planAround(centre: Vec3, rowDir: Vec3, colDir: Vec3, matrix: number, fovMm: number): SlicePlan {
  const ps = Math.round((fovMm / matrix) * 1e4) / 1e4;
  const half = (matrix / 2 - 0.5) * ps;
  const position = add(add(centre, rowDir, -half), colDir, -half);
  return { rows: matrix, cols: matrix, pixelSpacing: ps, position: position.map((v) => Math.round(v * 1e4) / 1e4) as Vec3, rowDir, colDir };
}

/** Sagittal stack: IOP [0,1,0,0,0,-1] (anterior→posterior across, head→feet down), ordered right→left. */
export function planSagittal(anatomy: Anatomy, prng: Prng, count: number, matrix: number): PlannedSlice[] {
  const sRef = anatomy.discCentres[2] ?? 80;
  const [cy, cz] = anatomy.curve.pointAt(sRef);
  const [ty, tz] = anatomy.curve.tangentAt(sRef);
  const fov = prng.uniform(270, 300);
  // Centred so that the back lies 5-15% of the field from its posterior edge, as a technologist plans it.
  const tOff = (anatomy.tableY - fov * prng.uniform(0.35, 0.45) - cy) / tz;
  const centre: Vec3 = [anatomy.xMid + prng.uniform(-2, 2), cy + tOff * tz, cz - tOff * ty];
  const thickness = prng.pick([3.5, 4, 4]);
  const spacing = Math.round(thickness * 1.1 * 100) / 100;
  const rowDir: Vec3 = [0, 1, 0];
  const colDir: Vec3 = [0, 0, -1];
  const normal = cross(rowDir, colDir);
  const out: PlannedSlice[] = [];
  for (let k = 0; k < count; k++) {
    const c: Vec3 = [centre[0] + (k - (count - 1) / 2) * spacing, centre[1], centre[2]];
    out.push({ plan: planAround(c, rowDir, colDir, matrix, fov), thickness, spacing, normal });
  }
  return out;
}

/** Oblique axial stacks through L3-L4, L4-L5 and L5-S1, each parallel to its disc, cranial→caudal. */
export function planAxial(anatomy: Anatomy, prng: Prng, perLevel: number, matrix: number): PlannedSlice[] {
  const fov = prng.uniform(180, 220);
  const thickness = 4;
  const spacing = 4.4;
  const out: PlannedSlice[] = [];
  for (const k of AXIAL_DISCS) {
    const sc = anatomy.discCentres[k] ?? 0;
    const [cy, cz] = anatomy.curve.pointAt(sc);
    const [ty0, tz0] = anatomy.curve.tangentAt(sc);
    // The technologist's angulation is a few degrees off the true disc plane.
    const jitter = (prng.uniform(-3, 3) * Math.PI) / 180;
    const ty = ty0 * Math.cos(jitter) + tz0 * Math.sin(jitter);
    const tz = tz0 * Math.cos(jitter) - ty0 * Math.sin(jitter);
    const normal: Vec3 = [0, ty, tz];
    const rowDir: Vec3 = [1, 0, 0];
    const colDir: Vec3 = [0, tz, -ty];
    const tOff = (anatomy.tableY - fov * prng.uniform(0.34, 0.42) - cy) / tz;
    const base: Vec3 = [anatomy.xMid + prng.uniform(-3, 3), cy + tOff * tz, cz - tOff * ty];
    const shift = prng.uniform(-0.8, 0.8);
    for (let j = 0; j < perLevel; j++) {
      const along = ((perLevel - 1) / 2 - j) * spacing + shift;
      out.push({ plan: planAround(add(base, normal, along), rowDir, colDir, matrix, fov), thickness, spacing, normal, level: DISC_LEVELS[k] });
    }
  }
  return out;
}

export function degradation(prng: Prng, difficulty: 'easy' | 'hard', centre: Vec3, phaseAxis: 'ROW' | 'COL'): Degradation {
  return {
    scale: prng.uniform(1500, 2500),
    noise: difficulty === 'hard' ? prng.uniform(0.03, 0.05) : prng.uniform(0.012, 0.025),
    biasY: prng.uniform(0.1, 0.35),
    biasZ: prng.uniform(-0.1, 0.1),
    biasX2: prng.uniform(0, 0.3),
    centre,
    // Most series are clean; some carry a faint motion ghost along phase encoding.
    ghost: prng.chance(0.3) ? prng.uniform(0.01, difficulty === 'hard' ? 0.05 : 0.03) : 0,
    phaseAxis,
  };
}

export function planCentre(slices: readonly PlannedSlice[]): Vec3 {
  const mid = slices[Math.floor(slices.length / 2)];
  if (!mid) return [0, 0, 0];
  const p = mid.plan;
  const half = ((p.rows - 1) / 2) * p.pixelSpacing;
  return add(add(p.position, p.rowDir, half), p.colDir, half);
}

