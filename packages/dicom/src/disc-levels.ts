/**
 * Which lumbar disc level an axial slice images, from geometry alone (no pixels).
 *
 * Lumbar protocols acquire the axial T2 as one short oblique block per disc, each angled parallel
 * to its disc (phantom: L3-L4, L4-L5, L5-S1; many sites add L1-L2/L2-L3). Disc positions are not
 * in any header, so the rule works on the blocks themselves:
 *
 * 1. Slices are placed by their centre (IPP + half the in-plane extent; the corner IPP moves by
 *    up to ~17 mm between blocks angled 10° apart) and normal (row × column cosines).
 * 2. Sorted along the superior axis, consecutive slices start a new block when the plane gap along
 *    the normal exceeds `blockGapMm` (10 mm: slices within a block are 3–5 mm apart, discs ~35 mm)
 *    or the normals differ by more than `blockAngleDeg` (3°: each block follows its disc's angle).
 * 3. A block longer than `maxBlockExtentMm` (30 mm) is a contiguous stack crossing discs, not a
 *    per-disc block: its slices stay unassigned (reason given) rather than guessed.
 * 4. Blocks are ordered caudal→cranial; the most caudal is L5-S1 (protocols always include it).
 *    Each next block is `round(distance / discSpacingMm)` levels up (at least one), the distance
 *    between block centres measured along the two blocks' mean normal (the field-of-view centre
 *    sits anterior or posterior of the disc, in plane: a straight-line distance between centres of
 *    blocks angled apart overstates the disc spacing by up to ~50 % on phantoms), and
 *    `discSpacingMm` is the anatomical prior of 36 mm between adjacent lumbar disc centres (adult
 *    range ~31–43 mm; the rounding tolerates ±50 %), so a skipped level (no L4-L5 block) is seen.
 *    Blocks above L1-L2 stay unassigned.
 *
 * Known limit (documented, pinned by a test): without an L5-S1 block every level is named one too
 * low, since nothing in the axial geometry says where the sacrum is. Transitional vertebrae
 * (L6, sacralised L5) are likewise invisible to geometry.
 */

/** Lumbar disc levels, cranial to caudal (the order of CID 7604 and the SR). */
export const LUMBAR_DISC_LEVELS = ['L1-L2', 'L2-L3', 'L3-L4', 'L4-L5', 'L5-S1'] as const;
export type LumbarDiscLevel = (typeof LUMBAR_DISC_LEVELS)[number];

/** One axial slice (an instance, or a frame of a multi-frame) by a caller-chosen key. */
export interface AxialSliceGeometry {
  key: string;
  imagePositionPatient?: readonly number[] | undefined;
  imageOrientationPatient?: readonly number[] | undefined;
  /** With `pixelSpacing`, lets the centre be computed; without them the corner IPP is used. */
  rows?: number | undefined;
  columns?: number | undefined;
  /** PixelSpacing (0028,0030): [row spacing (between rows), column spacing], mm. */
  pixelSpacing?: readonly number[] | undefined;
}

export interface DiscLevelOptions {
  /** A plane gap (mm, along the normal) above which a new block starts. Default 10. */
  blockGapMm?: number;
  /** An angle between neighbouring normals (degrees) above which a new block starts. Default 3. */
  blockAngleDeg?: number;
  /** Longer blocks are contiguous stacks, left unassigned. Default 30. */
  maxBlockExtentMm?: number;
  /** Prior distance between adjacent lumbar disc centres. Default 36. */
  discSpacingMm?: number;
}

export interface AxialBlock {
  /** Keys of the block's slices, caudal→cranial. */
  keys: string[];
  /** Mean slice centre (LPS, mm). */
  centre: [number, number, number];
  /** Extent along the block normal, mm. */
  extentMm: number;
  level: LumbarDiscLevel | null;
  /** Why `level` is null. */
  unassignedReason?: string;
}

export interface DiscLevelAssignment {
  /** Level of each assigned slice key. */
  levelByKey: Map<string, LumbarDiscLevel>;
  /** Blocks caudal→cranial. */
  blocks: AxialBlock[];
  /** Keys that could not be placed (missing or malformed geometry, not axial). */
  unplaced: Array<{ key: string; reason: string }>;
}

export const DISC_LEVEL_DEFAULTS: Required<DiscLevelOptions> = { blockGapMm: 10, blockAngleDeg: 3, maxBlockExtentMm: 30, discSpacingMm: 36 };

type Vec3 = [number, number, number];
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const norm = (a: Vec3): number => Math.sqrt(dot(a, a));

interface Placed {
  key: string;
  centre: Vec3;
  normal: Vec3;
}

/** Centre and unit normal (pointing superior, +z in LPS) of a slice, or why it cannot be placed. */
function place(s: AxialSliceGeometry): Placed | string {
  const ipp = s.imagePositionPatient;
  const iop = s.imageOrientationPatient;
  if (!ipp || ipp.length !== 3 || !iop || iop.length !== 6 || ![...ipp, ...iop].every(Number.isFinite)) return 'missing or malformed ImagePositionPatient/ImageOrientationPatient';
  const r: Vec3 = [iop[0]!, iop[1]!, iop[2]!];
  const c: Vec3 = [iop[3]!, iop[4]!, iop[5]!];
  let n: Vec3 = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
  const len = norm(n);
  if (!(len > 0.5)) return 'ImageOrientationPatient row and column are not orthogonal unit vectors';
  n = [n[0] / len, n[1] / len, n[2] / len];
  if (Math.abs(n[2]) < Math.SQRT1_2) return 'not an axial slice (normal more than 45° from the body axis)';
  if (n[2] < 0) n = [-n[0], -n[1], -n[2]];
  let centre: Vec3 = [ipp[0]!, ipp[1]!, ipp[2]!];
  const ps = s.pixelSpacing;
  if (s.rows && s.columns && ps && ps.length === 2 && ps.every((v) => Number.isFinite(v) && v > 0)) {
    // Columns run along the row direction at column spacing ps[1]; rows along the column direction at ps[0].
    const hr = ((s.columns - 1) / 2) * ps[1]!;
    const hc = ((s.rows - 1) / 2) * ps[0]!;
    centre = [centre[0] + r[0] * hr + c[0] * hc, centre[1] + r[1] * hr + c[1] * hc, centre[2] + r[2] * hr + c[2] * hc];
  }
  return { key: s.key, centre, normal: n };
}

/**
 * Assigns each axial slice to a lumbar disc level by grouping slices into per-disc blocks (see the
 * file comment for the rule and its limits). Pure: same input, same answer, any input order.
 */
export function assignAxialDiscLevels(slices: readonly AxialSliceGeometry[], options: DiscLevelOptions = {}): DiscLevelAssignment {
  const opt = { ...DISC_LEVEL_DEFAULTS, ...options };
  const unplaced: Array<{ key: string; reason: string }> = [];
  const placed: Placed[] = [];
  for (const s of slices) {
    const p = place(s);
    if (typeof p === 'string') unplaced.push({ key: s.key, reason: p });
    else placed.push(p);
  }
  placed.sort((a, b) => a.centre[2] - b.centre[2] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const groups: Placed[][] = [];
  const cosLimit = Math.cos((opt.blockAngleDeg * Math.PI) / 180);
  for (const p of placed) {
    const group = groups[groups.length - 1];
    const prev = group?.[group.length - 1];
    if (group && prev && Math.abs(dot(sub(p.centre, prev.centre), prev.normal)) <= opt.blockGapMm && dot(p.normal, prev.normal) >= cosLimit) group.push(p);
    else groups.push([p]);
  }

  const levelByKey = new Map<string, LumbarDiscLevel>();
  const blocks: AxialBlock[] = [];
  // Index into LUMBAR_DISC_LEVELS counted from the caudal end: 0 = L5-S1.
  let step = -1;
  let prev: { centre: Vec3; normal: Vec3 } | undefined;
  for (const g of groups) {
    const first = g[0]!;
    const along = g.map((p) => dot(p.centre, first.normal));
    const extentMm = Math.max(...along) - Math.min(...along);
    const centre: Vec3 = [0, 1, 2].map((i) => g.reduce((s, p) => s + p.centre[i]!, 0) / g.length) as Vec3;
    const keys = g.map((p) => p.key);
    if (extentMm > opt.maxBlockExtentMm) {
      // A contiguous stack through several discs: no block structure to read levels from.
      blocks.push({ keys, centre, extentMm, level: null, unassignedReason: `contiguous stack of ${extentMm.toFixed(1)} mm (over ${opt.maxBlockExtentMm} mm) crosses more than one disc` });
      continue;
    }
    const normal = first.normal;
    if (prev === undefined) step = 0;
    else {
      const d = sub(centre, prev.centre);
      const along = (dot(d, normal) + dot(d, prev.normal)) / 2;
      step += Math.max(1, Math.round(along / opt.discSpacingMm));
    }
    prev = { centre, normal };
    const level = LUMBAR_DISC_LEVELS[LUMBAR_DISC_LEVELS.length - 1 - step];
    if (level === undefined) {
      blocks.push({ keys, centre, extentMm, level: null, unassignedReason: 'above L1-L2' });
      continue;
    }
    for (const k of keys) levelByKey.set(k, level);
    blocks.push({ keys, centre, extentMm, level });
  }
  return { levelByKey, blocks, unplaced };
}
