/**
 * The spine's centre line in the mid-sagittal plane (patient y = posterior, z = superior, mm),
 * sampled every `ds` mm of arc length s. Anatomy is modelled in "straightened" coordinates
 * (s along the spine, t posterior distance from the line, x lateral); this curve bends it into
 * a lordotic spine, so one parameter set gives consistent sagittal and oblique axial images.
 */
export class SpineCurve {
  readonly ds: number;
  readonly s0: number;
  readonly y: Float64Array;
  readonly z: Float64Array;
  /** Unit tangent (pointing superior along the spine). */
  readonly ty: Float64Array;
  readonly tz: Float64Array;

  /**
   * @param alphaAt tangent angle (rad) at arc length s: 0 = straight up, positive = tilting posterior.
   * @param anchorS arc length placed at (anchorY, anchorZ).
   */
  constructor(
    alphaAt: (s: number) => number,
    sMin: number,
    sMax: number,
    ds: number,
    anchorS: number,
    anchorY: number,
    anchorZ: number,
  ) {
    this.ds = ds;
    this.s0 = sMin;
    const n = Math.floor((sMax - sMin) / ds) + 1;
    this.y = new Float64Array(n);
    this.z = new Float64Array(n);
    this.ty = new Float64Array(n);
    this.tz = new Float64Array(n);
    let y = 0;
    let z = 0;
    for (let i = 0; i < n; i++) {
      const s = sMin + i * ds;
      const a = alphaAt(s);
      this.y[i] = y;
      this.z[i] = z;
      this.ty[i] = Math.sin(a);
      this.tz[i] = Math.cos(a);
      const am = alphaAt(s + ds / 2);
      y += ds * Math.sin(am);
      z += ds * Math.cos(am);
    }
    const [ay, az] = this.pointAt(anchorS);
    for (let i = 0; i < n; i++) {
      this.y[i] = (this.y[i] ?? 0) - ay + anchorY;
      this.z[i] = (this.z[i] ?? 0) - az + anchorZ;
    }
  }

  get length(): number {
    return this.y.length;
  }

  /** Position on the curve at arc length s (linear between samples). */
  pointAt(s: number): [number, number] {
    const f = (s - this.s0) / this.ds;
    const i = Math.max(0, Math.min(this.length - 2, Math.floor(f)));
    const w = f - i;
    return [lerp(this.y[i] ?? 0, this.y[i + 1] ?? 0, w), lerp(this.z[i] ?? 0, this.z[i + 1] ?? 0, w)];
  }

  /** Unit tangent (superior) at s. The posterior normal is (tz, -ty). */
  tangentAt(s: number): [number, number] {
    const f = (s - this.s0) / this.ds;
    const i = Math.max(0, Math.min(this.length - 2, Math.floor(f)));
    const w = f - i;
    const ty = lerp(this.ty[i] ?? 0, this.ty[i + 1] ?? 0, w);
    const tz = lerp(this.tz[i] ?? 1, this.tz[i + 1] ?? 1, w);
    const n = Math.hypot(ty, tz);
    return [ty / n, tz / n];
  }

  /**
   * Straightened coordinates of a mid-sagittal point: writes s (arc length of the foot point) and
   * t (signed posterior distance) into out[0], out[1]. Binary search on the sign of the tangential
   * offset, which decreases along the curve wherever t is smaller than the radius of curvature.
   */
  project(py: number, pz: number, out: Float64Array): void {
    const Y = this.y;
    const Z = this.z;
    const TY = this.ty;
    const TZ = this.tz;
    let lo = 0;
    let hi = this.length - 1;
    const gLo = (py - (Y[lo] ?? 0)) * (TY[lo] ?? 0) + (pz - (Z[lo] ?? 0)) * (TZ[lo] ?? 0);
    if (gLo <= 0) {
      out[0] = this.s0 + gLo;
      out[1] = (py - (Y[0] ?? 0)) * (TZ[0] ?? 0) - (pz - (Z[0] ?? 0)) * (TY[0] ?? 0);
      return;
    }
    const gHi = (py - (Y[hi] ?? 0)) * (TY[hi] ?? 0) + (pz - (Z[hi] ?? 0)) * (TZ[hi] ?? 0);
    if (gHi >= 0) {
      out[0] = this.s0 + hi * this.ds + gHi;
      out[1] = (py - (Y[hi] ?? 0)) * (TZ[hi] ?? 0) - (pz - (Z[hi] ?? 0)) * (TY[hi] ?? 0);
      return;
    }
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const g = (py - (Y[mid] ?? 0)) * (TY[mid] ?? 0) + (pz - (Z[mid] ?? 0)) * (TZ[mid] ?? 0);
      if (g >= 0) lo = mid;
      else hi = mid;
    }
    const g0 = (py - (Y[lo] ?? 0)) * (TY[lo] ?? 0) + (pz - (Z[lo] ?? 0)) * (TZ[lo] ?? 0);
    const g1 = (py - (Y[hi] ?? 0)) * (TY[hi] ?? 0) + (pz - (Z[hi] ?? 0)) * (TZ[hi] ?? 0);
    const w = g0 / (g0 - g1);
    const t0 = (py - (Y[lo] ?? 0)) * (TZ[lo] ?? 0) - (pz - (Z[lo] ?? 0)) * (TY[lo] ?? 0);
    const t1 = (py - (Y[hi] ?? 0)) * (TZ[hi] ?? 0) - (pz - (Z[hi] ?? 0)) * (TY[hi] ?? 0);
    out[0] = this.s0 + (lo + w) * this.ds;
    out[1] = t0 + (t1 - t0) * w;
  }
}

function lerp(a: number, b: number, w: number): number {
  return a + (b - a) * w;
}
