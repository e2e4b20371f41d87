/** The start-of-frame marker of a JPEG / JPEG-LS codestream: which process wrote it, at what precision. */
export interface JpegFrameHeader {
  /** SOF marker's low byte: 0xC0 baseline, 0xC1 extended, 0xC2 progressive, 0xC3 lossless, 0xF7 JPEG-LS, ... */
  marker: number;
  precision: number;
  /** Lines (0 when a DNL marker gives it later), samples per line, components. */
  height: number;
  width: number;
  components: number;
}

const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf, 0xf7]);

/** Scans the markers after SOI up to the first SOF; undefined when there is none before SOS or the end. */
export function readJpegFrameHeader(b: Uint8Array): JpegFrameHeader | undefined {
  if (b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const m = b[i + 1] as number;
    if (m === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (m === 0xda || m === 0xd9) return undefined; // SOS or EOI before any SOF
    const len = ((b[i + 2] as number) << 8) | (b[i + 3] as number);
    if (SOF.has(m)) {
      if (i + 9 >= b.length) return undefined;
      const at = (k: number): number => b[i + k] as number;
      return { marker: m, precision: at(4), height: (at(5) << 8) | at(6), width: (at(7) << 8) | at(8), components: at(9) };
    }
    i += 2 + len;
  }
  return undefined;
}

/** "SOF3 (lossless), 16-bit" for messages. */
export function describeJpegFrame(h: JpegFrameHeader): string {
  const names: Record<number, string> = { 0xc0: 'baseline', 0xc1: 'extended sequential', 0xc2: 'progressive', 0xc3: 'lossless', 0xf7: 'JPEG-LS' };
  const n = h.marker === 0xf7 ? 'SOF55' : `SOF${h.marker - 0xc0}`;
  return `${n} (${names[h.marker] ?? 'unsupported process'}), ${h.precision}-bit`;
}

/** Image size and components from a JPEG 2000 codestream's SIZ marker (undefined for a JP2 file or a short stream). */
export function readJ2kSize(b: Uint8Array): { width: number; height: number; components: number } | undefined {
  if (b.length < 44 || b[0] !== 0xff || b[1] !== 0x4f || b[2] !== 0xff || b[3] !== 0x51) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: v.getUint32(8, false) - v.getUint32(16, false), height: v.getUint32(12, false) - v.getUint32(20, false), components: v.getUint16(40, false) };
}
