/**
 * Finds one frame's bytes: native frames by offset, encapsulated frames by the Basic Offset
 * Table (dcmjs already joined the fragments), the Extended Offset Table, one fragment per frame,
 * or — when fragments outnumber frames and no table says where frames start — the codestream's
 * own start markers (JPEG SOI, JPEG 2000 SOC+SIZ or a JP2 signature box).
 */
import type { PixelDataset } from './dataset.js';
import type { PixelEncoding } from './transfer-syntax.js';

/** Bytes of native frame `index` (still in the file's byte order); `null` when the data is too short. */
export function nativeFrameBytes(ds: PixelDataset, bytes: Uint8Array, index: number): Uint8Array | null {
  const samples = ds.rows * ds.columns * ds.samplesPerPixel;
  if (ds.bitsAllocated === 1) {
    // Bits are packed across frame boundaries: take whole bytes around the frame, unpacked later.
    const firstBit = index * samples;
    const start = Math.floor(firstBit / 8);
    const end = Math.ceil((firstBit + samples) / 8);
    return end <= bytes.length ? bytes.subarray(start, end) : null;
  }
  const size = (samples * ds.bitsAllocated) / 8;
  const start = index * size;
  return start + size <= bytes.length ? bytes.subarray(start, start + size) : null;
}

function isFrameStart(encoding: PixelEncoding, b: Uint8Array): boolean {
  switch (encoding) {
    case 'jpeg-baseline':
    case 'jpeg-extended':
    case 'jpeg-lossless':
    case 'jpeg-ls':
      return b[0] === 0xff && b[1] === 0xd8; // SOI
    case 'jpeg-2000':
    case 'htj2k':
      // SOC followed by SIZ, or a JP2 file's signature box.
      return (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51) || (b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0x0c && b[4] === 0x6a && b[5] === 0x50);
    default:
      return false; // RLE: PS3.5 A.4.2 puts each frame in exactly one fragment.
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * The item groups that make up each frame, or a reason why the frames cannot be told apart.
 * dcmjs returns exactly NumberOfFrames items when a Basic Offset Table was present (it joins the
 * fragments of each frame), and the bare fragments otherwise.
 */
export function encapsulatedFrames(ds: PixelDataset, items: Uint8Array[], encoding: PixelEncoding): Uint8Array[][] | string {
  const frames = ds.numberOfFrames;
  if (items.length === frames) return items.map((x) => [x]);
  if (items.length < frames) return `${items.length} pixel data fragments for ${frames} frames`;
  if (frames === 1) return [items];
  const eot = ds.extendedOffsets;
  if (eot && eot.length === frames) {
    // Offsets count from the first fragment's item tag; each item has an 8-byte header.
    const starts = new Map<number, number>();
    let pos = 0;
    items.forEach((it, i) => {
      starts.set(pos, i);
      pos += 8 + it.length;
    });
    const firstItems = eot.map((off) => starts.get(off));
    if (firstItems.every((x) => x !== undefined) && firstItems[0] === 0) {
      return firstItems.map((startItem, f) => items.slice(startItem, f + 1 < frames ? firstItems[f + 1] : items.length));
    }
    return 'the Extended Offset Table does not point at fragment boundaries';
  }
  const groups: Uint8Array[][] = [];
  for (const it of items) {
    if (isFrameStart(encoding, it) || groups.length === 0) groups.push([it]);
    else (groups[groups.length - 1] as Uint8Array[]).push(it);
  }
  if (groups.length !== frames) {
    return `${items.length} fragments for ${frames} frames and no offset table; the codestream start markers give ${groups.length} frames`;
  }
  return groups;
}

/** Joins one frame's fragments into one codestream. */
export const joinFragments = concat;
