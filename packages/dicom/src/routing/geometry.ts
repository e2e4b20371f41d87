/**
 * Series geometry in the patient (LPS) frame: the plane from the slice normal, how many
 * separately angled blocks a series holds (Siemens "_mblock", GE/Philips per-level axial blocks
 * stored as one series), and what range of the patient's head–foot axis (z) it covers.
 */

export type Plane = 'sagittal' | 'coronal' | 'axial' | 'oblique';
export type Vec3 = [number, number, number];

function normalOf(iop: readonly number[] | null | undefined): Vec3 | undefined {
  if (!iop || iop.length !== 6 || iop.some((v) => !Number.isFinite(v))) return undefined;
  const [rx, ry, rz, cx, cy, cz] = iop as [number, number, number, number, number, number];
  const n: Vec3 = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
  const len = Math.hypot(...n);
  if (len < 1e-6) return undefined;
  return [n[0] / len, n[1] / len, n[2] / len];
}

function dominant(n: Vec3): { plane: Exclude<Plane, 'oblique'>; cosine: number } {
  const a = n.map(Math.abs) as Vec3;
  const max = Math.max(...a);
  return { plane: max === a[0] ? 'sagittal' : max === a[1] ? 'coronal' : 'axial', cosine: max };
}

/** Plane from the slice normal (row × column cosines); 'oblique' when it leans past `obliqueTolerance`. */
export function planeFromOrientation(iop: readonly number[] | null | undefined, obliqueTolerance = 0.8): Plane {
  const n = normalOf(iop);
  if (!n) return 'oblique';
  const d = dominant(n);
  return d.cosine < obliqueTolerance ? 'oblique' : d.plane;
}

/** Geometry of one series' stack of slices. */
export interface StackGeometry {
  /** Plane shared by every block; 'mixed' when blocks lie in different planes (a 3-plane localizer). */
  plane: Plane | 'mixed' | 'unknown';
  /** Distinct slice orientations (blocks) in the series. */
  blocks: number;
  /** Largest tilt of a block from its plane, degrees. */
  maxTiltDeg: number;
  /** Range of slice positions along the patient's z axis (mm), when positions are known. */
  zRange?: [number, number];
  /** Range of z that the images themselves span (needs rows and pixel spacing), for sagittal/coronal stacks. */
  imageZRange?: [number, number];
}

/** Blocks of one stack lie within this angle of the stack's mean normal (degrees). */
const MAX_BLOCK_SPREAD_DEG = 40;

/** Normals closer than this (cosine; ~0.8°) are the same block. */
const SAME_BLOCK_COSINE = 0.9999;

/**
 * Geometry of a stack from its per-slice orientations and positions (one per instance, or one
 * per frame for Enhanced MR). Several distinct orientations that all lie in one plane are one
 * stack in blocks, e.g. axial blocks angled to each disc.
 */
export function stackGeometry(
  orientations: ReadonlyArray<readonly number[]>,
  positions: ReadonlyArray<readonly number[]>,
  opts: { obliqueTolerance: number; rows?: number | null; columns?: number | null; pixelSpacing?: readonly number[] | null },
): StackGeometry {
  const normals: Vec3[] = [];
  for (const iop of orientations) {
    const n = normalOf(iop);
    if (n && !normals.some((m) => Math.abs(m[0] * n[0] + m[1] * n[1] + m[2] * n[2]) > SAME_BLOCK_COSINE)) normals.push(n);
  }
  const zs = positions.filter((p) => p.length === 3 && p.every(Number.isFinite)).map((p) => p[2]!);
  const zRange: [number, number] | undefined = zs.length > 0 ? [Math.min(...zs), Math.max(...zs)] : undefined;
  const out: StackGeometry = { plane: 'unknown', blocks: normals.length, maxTiltDeg: 0, ...(zRange ? { zRange } : {}) };
  if (normals.length === 0) return out;
  // The stack's plane is that of its mean normal (signs aligned to the first block), not of each
  // block: an axial block angled 45° or more to the L5-S1 disc leans as much towards coronal as
  // axial, yet belongs to the axial stack. Blocks farther than MAX_BLOCK_SPREAD_DEG from the mean
  // are different planes (a 2- or 3-plane localizer: 45° and 55° from their mean).
  const first = normals[0]!;
  const sum: Vec3 = [0, 0, 0];
  for (const n of normals) {
    const sign = n[0] * first[0] + n[1] * first[1] + n[2] * first[2] < 0 ? -1 : 1;
    for (let k = 0; k < 3; k++) sum[k]! += sign * n[k]!;
  }
  const len = Math.hypot(...sum);
  const mean = sum.map((v) => v / len) as Vec3;
  const spreadCos = Math.min(...normals.map((n) => Math.abs(n[0] * mean[0] + n[1] * mean[1] + n[2] * mean[2])));
  const stack = dominant(mean);
  const axis = [0, 1, 2].map((k) => (k === ['sagittal', 'coronal', 'axial'].indexOf(stack.plane) ? 1 : 0));
  const minCos = Math.min(...normals.map((n) => Math.abs(n[0] * axis[0]! + n[1] * axis[1]! + n[2] * axis[2]!)));
  out.maxTiltDeg = Math.round((Math.acos(Math.min(1, minCos)) * 180) / Math.PI);
  if (spreadCos < Math.cos((MAX_BLOCK_SPREAD_DEG * Math.PI) / 180)) out.plane = 'mixed';
  else out.plane = stack.cosine < opts.obliqueTolerance ? 'oblique' : stack.plane;
  // The z extent of an in-plane image: rows × row spacing along the column direction, columns ×
  // column spacing along the row direction, from each slice's top-left corner.
  const iop = orientations.find((o) => o.length === 6);
  const [rowSpacing, colSpacing] = [opts.pixelSpacing?.[0], opts.pixelSpacing?.[1] ?? opts.pixelSpacing?.[0]];
  if (iop && zRange && opts.rows && rowSpacing && (out.plane === 'sagittal' || out.plane === 'coronal')) {
    const down = (iop[5] ?? 0) * opts.rows * rowSpacing;
    const across = (iop[2] ?? 0) * (opts.columns ?? 0) * (colSpacing ?? 0);
    const ends = [0, down, across, down + across].flatMap((d) => [zRange[0] + d, zRange[1] + d]);
    out.imageZRange = [Math.min(...ends), Math.max(...ends)];
  }
  return out;
}

/** Overlap of two ranges as a fraction of the first one's length (1 when it lies inside). */
export function overlapFraction(a: [number, number], b: [number, number]): number {
  const len = a[1] - a[0];
  const inter = Math.min(a[1], b[1]) - Math.max(a[0], b[0]);
  if (len <= 0) return a[0] >= b[0] && a[0] <= b[1] ? 1 : 0;
  return Math.max(0, inter) / len;
}
