/**
 * RLE Lossless (PS3.5 Annex G) encoder for 16-bit single-sample frames: two byte-plane segments
 * (high bytes first), each PackBits-coded row by row, behind the 64-byte RLE header. Written here
 * because it is short and keeps the package free of codec dependencies.
 */
export function encodeRle16(pixels: Uint16Array, rows: number, cols: number): Uint8Array {
  const high = new Uint8Array(rows * cols);
  const low = new Uint8Array(rows * cols);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] ?? 0;
    high[i] = v >>> 8;
    low[i] = v & 0xff;
  }
  const segHigh = packBitsRows(high, rows, cols);
  const segLow = packBitsRows(low, rows, cols);
  const out = new Uint8Array(64 + segHigh.length + segLow.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 2, true);
  view.setUint32(4, 64, true);
  view.setUint32(8, 64 + segHigh.length, true);
  out.set(segHigh, 64);
  out.set(segLow, 64 + segHigh.length);
  return out;
}

/** PackBits of each row separately, padded to an even length. */
function packBitsRows(plane: Uint8Array, rows: number, cols: number): Uint8Array {
  // Worst case is 2 bytes per input byte (a 1-byte literal between runs: "a b b c d d ...");
  // a tighter bound let a typed-array write past the end be dropped silently (corrupt segments).
  const out = new Uint8Array(rows * cols * 2 + 2);
  let o = 0;
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    const end = start + cols;
    let i = start;
    while (i < end) {
      // Length of the run of equal bytes starting at i.
      let run = 1;
      while (i + run < end && run < 128 && plane[i + run] === plane[i]) run++;
      if (run >= 2) {
        out[o++] = (257 - run) & 0xff; // -(run-1) as a signed byte
        out[o++] = plane[i] ?? 0;
        i += run;
        continue;
      }
      // Literal: extend until a run of 2+ equal bytes begins or 128 bytes.
      let lit = 1;
      while (i + lit < end && lit < 128) {
        if (i + lit + 1 < end && plane[i + lit] === plane[i + lit + 1]) break;
        lit++;
      }
      out[o++] = lit - 1;
      for (let k = 0; k < lit; k++) out[o++] = plane[i + k] ?? 0;
      i += lit;
    }
  }
  if (o & 1) out[o++] = 0;
  return out.slice(0, o);
}

/** Decoder of the same format, used by the tests to prove the encoding is lossless. */
export function decodeRle16(frame: Uint8Array, rows: number, cols: number): Uint16Array {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const nSeg = view.getUint32(0, true);
  if (nSeg !== 2) throw new RangeError(`expected 2 RLE segments, got ${nSeg}`);
  const n = rows * cols;
  const planes = [0, 1].map((k) => {
    const startOff = view.getUint32(4 + 4 * k, true);
    const endOff = k === 0 ? view.getUint32(8, true) : frame.byteLength;
    const plane = new Uint8Array(n);
    let i = startOff;
    let o = 0;
    while (i < endOff && o < n) {
      const c = frame[i++] ?? 0;
      if (c < 128) {
        for (let j = 0; j <= c && o < n; j++) plane[o++] = frame[i++] ?? 0;
      } else if (c > 128) {
        const v = frame[i++] ?? 0;
        for (let j = 0; j < 257 - c && o < n; j++) plane[o++] = v;
      }
    }
    return plane;
  });
  const out = new Uint16Array(n);
  const [hi, lo] = planes as [Uint8Array, Uint8Array];
  for (let i = 0; i < n; i++) out[i] = ((hi[i] ?? 0) << 8) | (lo[i] ?? 0);
  return out;
}
