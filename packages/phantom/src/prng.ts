/**
 * A small seeded PRNG (mulberry32) so every phantom is reproducible from its seed:
 * the trainer and the tests regenerate byte-identical studies; Math.random is never used.
 */
export class Prng {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = hashSeed(seed) | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Uniform 32-bit unsigned integer. The state is kept as an int32 (`| 0`), which V8 stores
   * unboxed; a uint32 above 2^31 would be a heap number allocated on every draw.
   */
  nextUint32(): number {
    const a = (this.state = (this.state + 0x6d2b79f5) | 0);
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = this.next();
    if (u < 1e-12) u = 1e-12;
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** An independent child stream, so adding draws in one part does not shift another part. */
  fork(label: number): Prng {
    return new Prng(hashSeed((this.state ^ Math.imul(label + 1, 0x9e3779b1)) >>> 0));
  }
}

/** splitmix32-style integer hash: spreads nearby seeds (0, 1, 2…) into unrelated states. */
export function hashSeed(seed: number): number {
  let z = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Integer lattice hash to [0,1): the basis of the value noise used for tissue texture. */
export function latticeHash(ix: number, iy: number, iz: number, seed: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ Math.imul(iz, 0x9e3779b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth 3D value noise in [-1, 1] with unit lattice spacing (trilinear on a smoothstep). */
export function valueNoise3(x: number, y: number, z: number, seed: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const iz = Math.floor(z);
  let fx = x - ix;
  let fy = y - iy;
  let fz = z - iz;
  fx = fx * fx * (3 - 2 * fx);
  fy = fy * fy * (3 - 2 * fy);
  fz = fz * fz * (3 - 2 * fz);
  const c000 = latticeHash(ix, iy, iz, seed);
  const c100 = latticeHash(ix + 1, iy, iz, seed);
  const c010 = latticeHash(ix, iy + 1, iz, seed);
  const c110 = latticeHash(ix + 1, iy + 1, iz, seed);
  const c001 = latticeHash(ix, iy, iz + 1, seed);
  const c101 = latticeHash(ix + 1, iy, iz + 1, seed);
  const c011 = latticeHash(ix, iy + 1, iz + 1, seed);
  const c111 = latticeHash(ix + 1, iy + 1, iz + 1, seed);
  const x00 = c000 + (c100 - c000) * fx;
  const x10 = c010 + (c110 - c010) * fx;
  const x01 = c001 + (c101 - c001) * fx;
  const x11 = c011 + (c111 - c011) * fx;
  const y0 = x00 + (x10 - x00) * fy;
  const y1 = x01 + (x11 - x01) * fy;
  return 2 * (y0 + (y1 - y0) * fz) - 1;
}
