import type { TestImage } from './encode.js';

/**
 * A deterministic MR-like test image: a bright ellipse (body) with darker round structures, a
 * smooth bias field and a little noise, scaled to the full range of `bitsStored` (two's
 * complement range when signed; the first two pixels of each frame are the range's ends). Smooth content like this is what codecs meet in practice;
 * pure noise would not exercise prediction or transforms.
 */
export function syntheticImage(opts: {
  rows: number;
  columns: number;
  bitsStored: number;
  bitsAllocated?: 8 | 16 | 32;
  signed?: boolean;
  frames?: number;
  seed?: number;
}): TestImage {
  const { rows, columns, bitsStored } = opts;
  const frames = opts.frames ?? 1;
  const signed = opts.signed ?? false;
  const lo = signed ? -(2 ** (bitsStored - 1)) : 0;
  const hi = signed ? 2 ** (bitsStored - 1) - 1 : 2 ** bitsStored - 1;
  const pixels = new Array<number>(rows * columns * frames);
  let x = (opts.seed ?? 1) >>> 0;
  const rand = (): number => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 0x100000000;
  };
  for (let f = 0; f < frames; f++) {
    const shift = f / Math.max(1, frames);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const u = (c / columns) * 2 - 1;
        const v = (r / rows) * 2 - 1;
        let s = 0.05;
        if ((u / 0.8) ** 2 + (v / 0.9) ** 2 < 1) s = 0.55 + 0.2 * Math.sin(3 * u + shift) * Math.cos(2 * v);
        if ((u - 0.2) ** 2 + (v + 0.1 - shift * 0.2) ** 2 < 0.04) s = 0.95;
        if ((u + 0.3) ** 2 + (v - 0.3) ** 2 < 0.02) s = 0.15;
        s *= 0.85 + 0.15 * (1 - (u * u + v * v) / 2);
        s += (rand() - 0.5) * 0.02;
        const val = Math.round(lo + Math.min(1, Math.max(0, s)) * (hi - lo));
        pixels[f * rows * columns + r * columns + c] = val;
      }
    }
    // Full range in every frame: dcmtk's lossy JPEG encoder scales min..max to the sample range
    // (its +sp default, recorded nowhere), which is the identity only for a full-range image.
    pixels[f * rows * columns] = lo;
    pixels[f * rows * columns + 1] = hi;
  }
  return {
    rows,
    columns,
    frames,
    bitsAllocated: opts.bitsAllocated ?? (bitsStored <= 8 ? 8 : bitsStored <= 16 ? 16 : 32),
    bitsStored,
    pixelRepresentation: signed ? 1 : 0,
    pixels,
  };
}
