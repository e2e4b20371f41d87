/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, then one PackBits
 * segment per byte plane, most significant byte first. Small enough to implement exactly here;
 * output is little endian, like native pixel data.
 */

/** Decodes one RLE frame of `rows`×`columns` single-sample pixels of `bytesPerSample` bytes. */
export function decodeRleFrame(frame: Uint8Array, rows: number, columns: number, bytesPerSample: number): Uint8Array {
  if (frame.length < 64) throw new Error(`RLE frame is ${frame.length} bytes, shorter than its 64-byte header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== bytesPerSample) {
    throw new Error(`RLE header has ${segments} segments, ${bytesPerSample} expected for one sample of ${bytesPerSample * 8} bits`);
  }
  const offsets: number[] = [];
  for (let s = 0; s < segments; s++) offsets.push(view.getUint32(4 + 4 * s, true));
  const pixels = rows * columns;
  const out = new Uint8Array(pixels * bytesPerSample);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s] as number;
    const end = s + 1 < segments ? (offsets[s + 1] as number) : frame.length;
    if (start < 64 || end > frame.length || start > end) throw new Error(`RLE segment ${s + 1} has offset ${start}..${end} outside the ${frame.length}-byte frame`);
    // Segment s holds byte (bytesPerSample - 1 - s) of each little-endian sample.
    const written = unpackBits(frame, start, end, out, bytesPerSample - 1 - s, bytesPerSample, pixels);
    if (written < pixels) throw new Error(`RLE segment ${s + 1} decodes to ${written} bytes, ${pixels} expected`);
  }
  return out;
}

/** PackBits into every `stride`-th byte of `out` from `first`; returns how many bytes it wrote (at most `count`). */
function unpackBits(src: Uint8Array, start: number, end: number, out: Uint8Array, first: number, stride: number, count: number): number {
  let i = start;
  let n = 0;
  let o = first;
  while (i < end && n < count) {
    const header = src[i++] as number;
    if (header < 128) {
      // Literal run of header + 1 bytes.
      const len = Math.min(header + 1, count - n, end - i);
      for (let k = 0; k < len; k++, o += stride) out[o] = src[i + k] as number;
      i += header + 1;
      n += len;
    } else if (header > 128) {
      // Replicate the next byte 257 - header times.
      if (i >= end) break;
      const value = src[i++] as number;
      const len = Math.min(257 - header, count - n);
      for (let k = 0; k < len; k++, o += stride) out[o] = value;
      n += len;
    }
    // header 128 is a no-op.
  }
  return n;
}
