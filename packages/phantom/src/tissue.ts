import type { Anatomy, Herniation, Segment } from './anatomy.js';
import { Prng, valueNoise3 } from './prng.js';

/**
 * Evaluates the phantom's tissue at a point in straightened coordinates and gives its T1- and
 * T2-weighted signal (0..~1). One evaluation feeds both weightings, so T1 and T2 sagittal series
 * show exactly the same anatomy, as two sequences of one session do.
 */

/** [T1, T2] relative signal of each tissue on TSE images. */
const FAT: readonly [number, number] = [0.92, 0.74];
const EPIFAT: readonly [number, number] = [0.86, 0.66];
const MUSCLE: readonly [number, number] = [0.34, 0.2];
const MARROW: readonly [number, number] = [0.7, 0.42];
const CORTEX: readonly [number, number] = [0.05, 0.04];
const ANNULUS: readonly [number, number] = [0.27, 0.15];
const CSF: readonly [number, number] = [0.1, 1.0];
const ROOT: readonly [number, number] = [0.33, 0.24];
const CORD: readonly [number, number] = [0.4, 0.36];
const LIGAMENT: readonly [number, number] = [0.18, 0.1];
const VESSEL: readonly [number, number] = [0.05, 0.04];
const JOINT: readonly [number, number] = [0.15, 0.7];
const BVV: readonly [number, number] = [0.35, 0.75];
const PROTRUSION: readonly [number, number] = [0.29, 0.42];
const EXTRUSION: readonly [number, number] = [0.3, 0.52];
const BOWEL_FLUID: readonly [number, number] = [0.14, 0.85];
const BOWEL_GAS: readonly [number, number] = [0.02, 0.02];
const BOWEL: readonly [number, number] = [0.42, 0.32];

export class TissueEvaluator {
  t1 = 0;
  t2 = 0;
  private readonly a: Anatomy;
  private readonly segLo: Float64Array;
  private readonly segs: Segment[];
  private readonly depthLut: Float64Array;
  private readonly widthLut: Float64Array;
  private readonly lutS0: number;
  private readonly seed: number;
  private readonly tableY: number;
  private readonly abdomenDepth: number;
  private readonly bx: number;
  private readonly fatPost: number;
  private readonly fatSide: number;
  private readonly sacrumTop: number;
  private readonly l1Top: number;
  private readonly bifurcationS: number;
  private readonly ivcS: number;
  private readonly crestS: number;
  private readonly hit = new Uint8Array(1);
  private readonly fat: readonly [number, number];
  private readonly epifat: readonly [number, number];
  private readonly muscle: readonly [number, number];
  private readonly csf: readonly [number, number];
  private readonly annulus: readonly [number, number];
  private readonly protrusion: readonly [number, number];
  private readonly extrusion: readonly [number, number];
  private readonly root: readonly [number, number];

  constructor(anatomy: Anatomy) {
    this.a = anatomy;
    this.segs = anatomy.segments;
    this.segLo = Float64Array.from(anatomy.segments.map((g) => g.sLo));
    this.lutS0 = -300;
    const n = 1000 * 2;
    this.depthLut = new Float64Array(n);
    this.widthLut = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = this.lutS0 + i * 0.5;
      this.depthLut[i] = anatomy.depthAt(s);
      this.widthLut[i] = anatomy.widthAt(s);
    }
    this.seed = anatomy.noiseSeed;
    // Per-study tissue contrast (coil, sequence and patient differences), ±~10 %.
    const cj = new Prng(anatomy.noiseSeed ^ 0x7e57);
    const jit = (v: readonly [number, number], amount: number): readonly [number, number] => [
      v[0] * (1 + amount * (2 * cj.next() - 1)),
      v[1] * (1 + amount * (2 * cj.next() - 1)),
    ];
    this.fat = jit(FAT, 0.08);
    this.epifat = jit(EPIFAT, 0.08);
    this.muscle = jit(MUSCLE, 0.12);
    this.csf = jit(CSF, 0.08);
    this.annulus = jit(ANNULUS, 0.08);
    this.protrusion = jit(PROTRUSION, 0.12);
    this.extrusion = jit(EXTRUSION, 0.12);
    this.root = jit(ROOT, 0.08);
    this.tableY = anatomy.tableY;
    this.abdomenDepth = anatomy.abdomenDepth;
    this.bx = anatomy.bodyHalfWidth;
    this.fatPost = anatomy.fatPosterior;
    this.fatSide = anatomy.fatPosterior * 1.3;
    this.sacrumTop = 0;
    const l1 = anatomy.segments.find((g) => g.name === 'L1');
    this.l1Top = l1 ? l1.sHi : 190;
    const l4 = anatomy.segments.find((g) => g.name === 'L4');
    this.bifurcationS = l4 ? (l4.sLo + l4.sHi) / 2 : 90;
    const l5 = anatomy.segments.find((g) => g.name === 'L5');
    this.ivcS = l5 ? (l5.sLo + l5.sHi) / 2 : 50;
    this.crestS = anatomy.discCentres[3] ?? 45;
  }

  private set(v: readonly [number, number], m = 1): void {
    this.t1 = v[0] * m;
    this.t2 = v[1] * m;
  }

  private segmentIndex(s: number): number {
    const lo = this.segLo;
    let a = 0;
    let b = lo.length - 1;
    if (s < (lo[0] ?? 0)) return -1;
    while (a < b) {
      const m = (a + b + 1) >> 1;
      if ((lo[m] ?? 0) <= s) a = m;
      else b = m - 1;
    }
    return a;
  }

  /**
   * Signal at straightened (s, t, x) and patient y (posterior, mm); results in this.t1 / this.t2.
   * The skin outline is in patient coordinates: the patient lies supine, the back flat on the table.
   */
  evaluate(s: number, t: number, x: number, py: number): void {
    const a = this.a;
    const ap = this.tableY - py;
    const dap = this.abdomenDepth;
    if (ap < 0 || ap > dap || s < -230) {
      this.t1 = 0;
      this.t2 = 0;
      return;
    }
    // Cross-section: a superellipse, flat at the back (p = 4) and round in front (p = 2).
    const v = (2 * ap) / dap - 1;
    const av = v < 0 ? -v : v;
    const w = v < 0 ? this.bx * Math.sqrt(Math.sqrt(1 - av * av * av * av)) : this.bx * Math.sqrt(1 - av * av);
    const axAbs = x < 0 ? -x : x;
    if (axAbs > w) {
      this.t1 = 0;
      this.t2 = 0;
      return;
    }
    if (ap < this.fatPost || axAbs > w - this.fatSide || ap > dap - this.fatSide) {
      this.set(this.fat);
      return;
    }
    // Abdominal wall muscles inside the subcutaneous fat, in front and at the flanks.
    if (v > -0.2 && (axAbs > w - this.fatSide - 11 || ap > dap - this.fatSide - 11)) {
      this.set(this.muscle, 1 + 0.06 * valueNoise3(s * 0.1, t * 0.6, x * 0.6, this.seed + 6));
      return;
    }
    let li = Math.floor((s - this.lutS0) * 2);
    if (li < 0) li = 0;
    else if (li >= this.depthLut.length) li = this.depthLut.length - 1;
    const halfD = (this.depthLut[li] ?? 30) / 2;
    const halfW = (this.widthLut[li] ?? 40) / 2;
    const Ca = s < 0 ? a.canalDepth * Math.max(0.45, 1 + s / 120) : a.canalDepth;
    const Cw = s < 0 ? a.canalHalfWidth * Math.max(0.6, 1 + s / 150) : a.canalHalfWidth;

    // Vertebral bodies and discs: a tube of superelliptic cross-section partitioned along s.
    if (t < halfD + 6 && t > -halfD - 6 && x < halfW + 8 && x > -halfW - 8) {
      if (this.column(s, t, x, halfD, halfW)) return;
    }
    const tp = t - halfD;
    // Herniations and the canal.
    let compression = 0;
    if (tp > -1 && tp < Ca + 2 && Math.abs(x) < Cw + 10) {
      for (const h of a.herniations) {
        if (h.grade === 'bulge') continue;
        const extent = herniationExtent(h, s, x, tp, this.hit);
        if (this.hit[0] === 1) {
          this.set(h.grade === 'extrusion' ? this.extrusion : this.protrusion);
          return;
        }
        if (extent > compression) compression = extent;
      }
    }
    if (tp >= 0 && tp <= Ca) {
      const hw = Cw * (1 - 0.45 * (tp / Ca) * (tp / Ca));
      if (x <= hw && x >= -hw) {
        this.canal(s, tp, x, Ca, Cw, compression);
        return;
      }
    }
    if (tp > -3 && tp < Ca + a.spinousLength + 12 && s > -120) {
      if (this.posteriorElements(s, tp, x, Ca, Cw)) return;
    }
    this.softTissue(s, t, x, halfD, halfW, tp, Ca, Cw);
  }

  private column(s: number, t: number, x: number, halfD: number, halfW: number): boolean {
    const idx = this.segmentIndex(s);
    if (idx < 0) return false;
    const seg = this.segs[idx];
    if (!seg) return false;
    const rt = t / halfD;
    const rx = x / halfW;
    if (seg.kind === 'disc') return this.disc(seg, s, t, x, halfD, halfW);
    // Body: superellipse, flatter posteriorly, with a waist at mid-height and, beside degenerated
    // discs, small anterior and lateral osteophytes at the endplate margins.
    const below = this.segs[idx - 1];
    const above = this.segs[idx + 1];
    const h = seg.sHi - seg.sLo;
    const u = (s - seg.sLo) / h;
    const waist = 1 - 0.07 * (1 - (2 * u - 1) * (2 * u - 1));
    let lip = 0;
    if (!seg.sacral) {
      const dLo = s - seg.sLo;
      const dHi = seg.sHi - s;
      if (below && below.kind === 'disc' && dLo < 4) lip = Math.max(lip, (1 - below.hydration) * 2.5 * (1 - dLo / 4));
      if (above && above.kind === 'disc' && dHi < 4) lip = Math.max(lip, (1 - above.hydration) * 2.5 * (1 - dHi / 4));
    }
    const art = t > 0 ? Math.abs(rt) : Math.abs(t / (halfD * waist + lip));
    const arx = Math.abs(x / (halfW * waist + lip));
    const q = t > 0 ? art * art * art * art + arx * arx * arx : art * art + arx * arx * arx;
    if (q > 1) return false;
    const conc = 1.6 * (1 - Math.min(1, rt * rt + rx * rx));
    if (!seg.sacral || seg.name === 'S1') {
      if (s - seg.sLo < conc && below && below.kind === 'disc') return this.disc(below, seg.sLo - 0.01, t, x, halfD, halfW);
      if (seg.sHi - s < conc && above && above.kind === 'disc') return this.disc(above, seg.sHi + 0.01, t, x, halfD, halfW);
    }
    const dEnd = Math.min(s - seg.sLo - conc, seg.sHi - s - conc);
    const radial = (1 - q) * Math.min(halfD, halfW) * 0.5;
    if (dEnd < 1.0 || radial < 0.9) {
      this.set(CORTEX);
      return true;
    }
    // Basivertebral vein: a small T2-bright notch in the posterior centre of the body.
    const mid = (seg.sLo + seg.sHi) / 2;
    if (!seg.sacral && t > halfD - 7 && x < 2 && x > -2 && s > mid - 2 && s < mid + 2) {
      this.set(BVV);
      return true;
    }
    const n = valueNoise3(s * 0.3, t * 0.3, x * 0.3, this.seed) + 0.5 * valueNoise3(s * 0.9, t * 0.9, x * 0.9, this.seed + 1);
    const m = 1 + this.a.marrowTexture * n;
    let f1 = 1;
    let f2 = 1;
    // Modic band: up to ~6 mm of marrow beside the endplate of a degenerated disc, irregular.
    const band = 4.5 + 2 * n;
    const modicLo = below && below.kind === 'disc' && s - seg.sLo < band ? (below.modic ?? 0) : 0;
    const modicHi = above && above.kind === 'disc' && seg.sHi - s < band ? (above.modic ?? 0) : 0;
    const modic = modicLo || modicHi;
    if (modic === 1) {
      f1 = 0.55;
      f2 = 1.6;
    } else if (modic === 2) {
      f1 = 1.3;
      f2 = 1.35;
    }
    this.t1 = MARROW[0] * this.a.marrowT1 * m * f1;
    this.t2 = MARROW[1] * this.a.marrowT2 * m * f2;
    return true;
  }

  private disc(seg: Segment, s: number, t: number, x: number, halfD: number, halfW: number): boolean {
    const h = seg.sHi - seg.sLo;
    const u = (s - seg.sLo) / h; // 0..1 across the disc height
    const prof = Math.max(0, 1 - (2 * u - 1) * (2 * u - 1));
    let bulge = 0.8 * prof;
    for (const hn of this.a.herniations) {
      if (hn.grade === 'bulge' && seg.truth && Math.abs(hn.sc - (seg.sLo + seg.sHi) / 2) < 0.01) bulge += hn.depth * Math.sqrt(prof);
    }
    const rt = t / (halfD + bulge);
    const rx = x / (halfW + bulge);
    const art = Math.abs(rt);
    const arx = Math.abs(rx);
    const q = t > 0 ? art * art * art * art + arx * arx * arx : art * art + arx * arx * arx;
    if (q > 1) return false;
    if (seg.sacral) {
      this.set(this.annulus, 0.6);
      return true;
    }
    // Nucleus: an inner ellipsoid, slightly posterior; its T2 signal falls with degeneration.
    const hyd = seg.hydration;
    const nt = (t - 0.04 * halfD) / (halfD * (0.5 + 0.28 * hyd));
    const nx = x / (halfW * (0.5 + 0.28 * hyd));
    const ns = (u - 0.5) / (0.3 + 0.16 * hyd);
    const nq = nt * nt + nx * nx + ns * ns;
    if (nq < 1) {
      const core = 1 - nq;
      let t2 = 0.16 + (0.2 + 0.72 * Math.pow(hyd, 1.4)) * Math.min(1, core * 4);
      // Intranuclear cleft: a thin dark horizontal band in adult discs.
      if (ns < 0.12 && ns > -0.12 && hyd < 0.95) t2 *= 0.75;
      this.t1 = 0.31;
      this.t2 = t2;
      return true;
    }
    this.set(this.annulus);
    return true;
  }

  private canal(s: number, tp: number, x: number, Ca: number, Cw: number, compression: number): void {
    const a = this.a;
    let tq = tp;
    if (compression > 0) {
      if (tp < compression) {
        this.set(this.epifat, 0.35);
        return;
      }
      tq = ((tp - compression) * Ca) / Math.max(1, Ca - compression);
    }
    // Ligamentum flavum at the disc levels, at the posterior canal.
    if (tq > Ca - 3) {
      for (const c of a.discCentres) {
        if (s > c - 7 && s < c + 9) {
          this.set(LIGAMENT);
          return;
        }
      }
    }
    // Thecal sac: tapers and ends at S2.
    if (s > a.sacEndS) {
      const taper = Math.min(1, (s - a.sacEndS) / 18);
      const sAP = 0.4 * Ca * (0.5 + 0.5 * taper);
      const sLat = 0.74 * Cw * (0.4 + 0.6 * taper);
      const c = 0.5 * Ca;
      const dt = (tq - c) / sAP;
      const dx = x / sLat;
      if (dt * dt + dx * dx <= 1) {
        if (s > a.conusS) {
          const cordTaper = Math.min(1, (s - a.conusS) / 25);
          const ct = (tq - c + 0.05 * Ca) / (0.24 * Ca * (0.3 + 0.7 * cordTaper));
          const cx = x / (0.42 * Cw * (0.3 + 0.7 * cordTaper));
          if (ct * ct + cx * cx <= 1) {
            this.set(CORD);
            return;
          }
        }
        // Cauda equina: roots lying dorsally (supine), running along s.
        for (const r of a.roots) {
          const rt = tq - (c - sAP + 2 * sAP * r.f);
          const rx = x - r.x * (sLat / Cw);
          if (rt * rt + rx * rx < r.r * r.r) {
            this.set(this.root);
            return;
          }
        }
        this.set(this.csf);
        return;
      }
    }
    this.set(this.epifat);
  }

  private posteriorElements(s: number, tp: number, x: number, Ca: number, Cw: number): boolean {
    const a = this.a;
    const ax = Math.abs(x);
    // The vertebra owning this s for its posterior arch (the arch sits lower than the body).
    const idx = this.segmentIndex(s + 5);
    let seg = this.segs[idx];
    if (seg && seg.kind === 'disc') seg = this.segs[idx + 1] && s + 5 - seg.sLo > (seg.sHi - seg.sLo) / 2 ? this.segs[idx + 1] : this.segs[idx - 1];
    if (!seg) return false;
    if (seg.sacral || s < this.sacrumTop - 4) {
      // Dorsal sacral plate behind the sacral canal.
      if (tp > Ca && tp < Ca + 9 && ax < 35) {
        this.bone(Math.min(tp - Ca, Ca + 9 - tp, 35 - ax));
        return true;
      }
      return false;
    }
    const H = seg.sHi - seg.sLo;
    const mid = (seg.sLo + seg.sHi) / 2;
    // Pedicles: ovals in the upper part of the body, lateral to the canal.
    if (ax > Cw - 1 && ax < Cw + 9 && tp > -3 && tp < 0.8 * Ca) {
      const ps = (s - (seg.sHi - 0.32 * H)) / (0.24 * H);
      const px = (ax - (Cw + 4)) / 5;
      const pq = ps * ps + px * px;
      if (pq <= 1) {
        this.bone((1 - Math.sqrt(pq)) * 5);
        return true;
      }
      // Neural foramen: fat with the exiting root (dorsal root ganglion) below the pedicle.
      const fs = (s - (seg.sLo - 1)) / (0.18 * H);
      const fx = (ax - (Cw + 4)) / 3.2;
      const ft = (tp - 0.35 * Ca) / 3.5;
      if (fs * fs + fx * fx + ft * ft <= 1) {
        this.set(this.root);
        return true;
      }
      if (ax > Cw) {
        this.set(this.epifat);
        return true;
      }
    }
    // Articular pillars: superior and inferior articular processes, with an oblique fluid-filled
    // facet joint between them from the disc level up to the pedicle above.
    const pt = (tp - 0.9 * Ca) / 8.5;
    const px = (ax - (Cw + 4)) / 7.5;
    const pq = pt * pt + px * px;
    if (pq <= 1) {
      for (const c of a.discCentres) {
        if (s > c - 5 && s < c + 11) {
          const d = (ax - (Cw + 4)) * 0.64 - (tp - 0.9 * Ca) * 0.77;
          if (d > -0.7 && d < 0.7) {
            this.set(JOINT);
            return true;
          }
          if (d > -1.6 && d < 1.6) {
            this.set(CORTEX);
            return true;
          }
        }
      }
      this.bone((1 - Math.sqrt(pq)) * 7.5);
      return true;
    }
    // Laminae: a roof sloping posteriorly towards the midline, interrupted between vertebrae.
    const lamIn = Ca - 1 + 0.3 * (Cw - ax);
    if (ax < Cw + 3 && tp >= lamIn && tp < lamIn + 5) {
      const lo = seg.sLo - 6;
      const hi = seg.sHi - 7;
      if (s > lo && s < hi) {
        this.bone(Math.min(s - lo, hi - s, tp - lamIn, lamIn + 5 - tp) * 1.3);
        return true;
      }
      this.set(LIGAMENT);
      return true;
    }
    // Spinous process: a caudally sloping plate in the midline.
    const sl = a.spinousLength;
    if (ax < 4 && tp >= Ca + 5 && tp < Ca + 5 + sl) {
      const k = (tp - Ca - 5) / sl;
      const c = mid - 5 - 0.35 * (tp - Ca);
      const hh = 10 - 3 * k;
      if (s > c - hh && s < c + hh) {
        this.bone(Math.min(s - (c - hh), c + hh - s, 4 - ax, Ca + 5 + sl - tp) * 1.2);
        return true;
      }
      // Interspinous ligament.
      if (ax < 1.5) {
        this.set(LIGAMENT, 1.4);
        return true;
      }
    }
    return false;
  }

  private bone(margin: number): void {
    if (margin < 1.1) this.set(CORTEX);
    else {
      const m = 1 + this.a.marrowTexture * 0.8;
      this.t1 = MARROW[0] * this.a.marrowT1 * 0.95 * m;
      this.t2 = MARROW[1] * this.a.marrowT2 * m;
    }
  }

  private softTissue(s: number, t: number, x: number, halfD: number, halfW: number, tp: number, Ca: number, Cw: number): void {
    const a = this.a;
    const ax = Math.abs(x);
    const seed = this.seed;
    // Paraspinal muscles (erector spinae + multifidus), one per side, split by the spinous process.
    const mc = Ca + 0.52 * a.muscleDepth;
    const mt = (tp - mc) / (0.55 * a.muscleDepth);
    const mx = (ax - (Cw + 17)) / (Cw + 14);
    const mq = mt * mt + mx * mx;
    if (mq <= 1 && s > -110) {
      if (mq > 0.93) {
        this.set(LIGAMENT, 1.3);
        return;
      }
      this.set(this.muscle, 1 + 0.07 * valueNoise3(s * 0.12, t * 0.8, x * 0.8, seed + 3));
      return;
    }
    // Iliac wings and gluteal muscles beside the lumbosacral junction (seen on the L5-S1 axials).
    if (s < this.crestS && ax > halfW + 4) {
      const depthBelow = Math.min(1, (this.crestS - s) / 40);
      const x1 = halfW + 6;
      const t1 = halfD + 22;
      const x2 = halfW + 40 + 45 * depthBelow;
      const t2 = -halfD * 0.6;
      const ux = x2 - x1;
      const ut = t2 - t1;
      const len2 = ux * ux + ut * ut;
      const k = ((ax - x1) * ux + (t - t1) * ut) / len2;
      if (k >= 0 && k <= 1) {
        const dx = ax - (x1 + k * ux);
        const dt = t - (t1 + k * ut);
        const d = Math.sqrt(dx * dx + dt * dt);
        const half = 4 + 3 * k;
        if (d < half) {
          this.bone((half - d) * 1.2);
          return;
        }
        // Behind the wing (posterolateral): gluteal muscle.
        if (dx * ut - dt * ux < 0 && t > -halfD && d < half + 22) {
          this.set(this.muscle, 1 + 0.06 * valueNoise3(s * 0.12, t * 0.7, x * 0.7, seed + 9));
          return;
        }
      }
    }
    // Quadratus lumborum, lateral to the erector spinae.
    if (s > 0 && s < this.l1Top) {
      const qx = (ax - (2 * Cw + 40)) / 15;
      const qt = (t - halfD - 4) / 10;
      if (qx * qx + qt * qt <= 1) {
        this.set(this.muscle, 1 + 0.06 * valueNoise3(s * 0.12, t * 0.7, x * 0.7, seed + 10));
        return;
      }
    }
    // Posterior pararenal and flank fat: behind a boundary that curves forward laterally.
    const lateral = ax - halfW - 30;
    if (t > halfD - (lateral > 0 ? 0.6 * lateral : 0)) {
      this.set(this.fat);
      return;
    }
    // Psoas: grows caudally from L1 to the sacrum.
    if (s > -30 && s < this.l1Top) {
      const r = 5 + 12 * (1 - Math.max(0, s) / this.l1Top);
      const pcx = halfW + r * 0.8;
      const px = (ax - pcx) / r;
      const pt = (t + 0.1 * halfD) / (r * 1.25);
      if (px * px + pt * pt <= 1) {
        this.set(this.muscle, 1 + 0.06 * valueNoise3(s * 0.12, t * 0.7, x * 0.7, seed + 5));
        return;
      }
    }
    // Great vessels: flow voids anterior to the spine (aorta left, IVC right), iliacs below.
    const vt = t + halfD + 11;
    if (s > this.bifurcationS) {
      const dx = x - 13;
      if (dx * dx + vt * vt < 100) {
        this.set(VESSEL);
        return;
      }
    } else {
      const off = 14 + (this.bifurcationS - s) * 0.45;
      const dx = ax - off;
      if (dx * dx + vt * vt < 36) {
        this.set(VESSEL);
        return;
      }
    }
    if (s > this.ivcS) {
      const dx = (x + 17) / 12;
      const dt = (t + halfD + 10) / 8;
      if (dx * dx + dt * dt < 1) {
        this.set(VESSEL);
        return;
      }
    }
    // Retroperitoneal fat around the vessels and psoas; bowel in front of it.
    const rx = x / (halfW + 45);
    const rt = (t + 0.3 * halfD) / (halfD + 14);
    if (rx * rx + rt * rt < 1) {
      this.set(this.fat);
      return;
    }
    // Bowel: two octaves of value noise on rotated axes (no lattice-aligned blocks), thresholded
    // into fluid, gas and intermediate content.
    const ru = 0.8 * s + 0.6 * t;
    const rv = 0.8 * t - 0.6 * s;
    const b = valueNoise3(ru / 11, rv / 11, (x + 0.5 * s) / 11, seed + 7) + 0.5 * valueNoise3(rv / 4.5, x / 4.5, ru / 4.5, seed + 8);
    if (b > 0.7) this.set(BOWEL_FLUID);
    else if (b < -0.75) this.set(BOWEL_GAS);
    else this.set(BOWEL, 1 + 0.3 * b);
  }
}

/**
 * Whether (s, x, tp) lies in a focal herniation, and how far the herniation reaches posteriorly
 * at (s, x) (which compresses the thecal sac). tp is the distance behind the disc margin; hit[0]
 * is set to 1 when the point is inside (a scratch array, so the hot loop allocates nothing).
 */
export function herniationExtent(h: Herniation, s: number, x: number, tp: number, hit: Uint8Array): number {
  hit[0] = 0;
  const dx = (x - h.xc) / h.halfWidth;
  if (dx >= 1 || dx <= -1) return 0;
  if (h.grade === 'protrusion') {
    const ds = (s - h.sc) / h.halfHeight;
    const q = dx * dx + ds * ds;
    if (q >= 1) return 0;
    const extent = h.depth * Math.sqrt(1 - q);
    if (tp <= extent) hit[0] = 1;
    return extent;
  }
  if (s < h.sc - 3 * h.halfHeight - Math.abs(h.migration) || s > h.sc + 3 * h.halfHeight + Math.abs(h.migration)) return 0;
  // Extrusion: the dome widens cranio-caudally beyond the disc and may migrate (a mushroom).
  const u = Math.max(0, tp) / h.depth;
  const hs = h.halfHeight * (0.7 + 0.9 * u);
  const sc = h.sc + h.migration * Math.pow(u, 1.5);
  const ds = (s - sc) / hs;
  const q = dx * dx + ds * ds;
  const inside = u <= 1 && q <= 1 - Math.pow(u, 6);
  // Conservative compression extent: the reach at this (s, x) ignoring the widening.
  const ds0 = (s - (h.sc + h.migration * 0.5)) / (h.halfHeight * 1.3);
  const q0 = dx * dx + ds0 * ds0;
  if (inside) hit[0] = 1;
  return q0 < 1 ? h.depth * Math.pow(1 - q0, 0.25) : 0;
}
