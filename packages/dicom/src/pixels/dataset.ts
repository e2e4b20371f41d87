/**
 * Reads what pixel decoding needs from a Part-10 file with dcmjs (every transfer syntax's
 * dataset encoding: implicit/explicit VR, big endian, deflate): the Image Pixel module, the
 * Modality LUT and pixel spacing — per frame for multi-frame (Enhanced) images, from the
 * per-frame or shared functional groups — and the pixel data as dcmjs found it.
 * Text attributes are not read here, so the Specific Character Set does not matter.
 */
import { createRequire } from 'node:module';
import { PixelDecodeError } from './errors.js';

interface DcmjsElement {
  vr: string;
  Value?: unknown[];
}
type DcmjsDict = Record<string, DcmjsElement>;
const require = createRequire(import.meta.url);
const dcmjs = require('dcmjs') as {
  data: { DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { dict: DcmjsDict; meta: DcmjsDict } } };
  log?: { setLevel?: (level: string) => void; getLogger?: (name: string) => { setLevel(level: string): void } };
};
// dcmjs logs odd values to the console; values may be PHI.
dcmjs.log?.setLevel?.('error');
// Its validation logger is separate ("Invalid vr type ox" for implicit-VR pixel data): silence it: truncation is
// detected here by size.
dcmjs.log?.getLogger?.('validation.dcmjs').setLevel('silent');

/** Modality LUT and pixel spacing of one frame. */
export interface FrameAttributes {
  rescaleSlope: number;
  rescaleIntercept: number;
  pixelSpacing?: [number, number];
}

/** The pixel-relevant content of one file. */
export interface PixelDataset {
  transferSyntaxUid: string;
  sopInstanceUid: string | undefined;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: 0 | 1;
  photometricInterpretation: string;
  numberOfFrames: number;
  /** Native pixel data (raw bytes in the transfer syntax's byte order) or encapsulated items. */
  pixelData: { kind: 'native'; bytes: Uint8Array } | { kind: 'encapsulated'; items: Uint8Array[] };
  /** Extended Offset Table (7FE0,0001), byte offsets of each frame's first item. */
  extendedOffsets: number[] | undefined;
  frame(index: number): FrameAttributes;
}

const first = (d: DcmjsDict | undefined, tag: string): unknown => d?.[tag]?.Value?.[0];
function num(d: DcmjsDict | undefined, tag: string): number | undefined {
  const v = first(d, tag);
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
function str(d: DcmjsDict | undefined, tag: string): string | undefined {
  const v = first(d, tag);
  return typeof v === 'string' ? v.replace(/\0+$/, '').trim() : undefined;
}
function pair(d: DcmjsDict | undefined, tag: string): [number, number] | undefined {
  const v = d?.[tag]?.Value;
  if (!v || v.length < 2) return undefined;
  const out = v.slice(0, 2).map((x) => (typeof x === 'number' ? x : Number(x)));
  return out.every((x) => Number.isFinite(x) && x > 0) ? [out[0] as number, out[1] as number] : undefined;
}
const item = (d: DcmjsDict | undefined, tag: string, i = 0): DcmjsDict | undefined => d?.[tag]?.Value?.[i] as DcmjsDict | undefined;

function toBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}

/** Encapsulated transfer syntaxes: every one except the native ones. */
const NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2']);

const cache = new WeakMap<Uint8Array, PixelDataset>();

/**
 * Parses `bytes` once per buffer object (decoding frame after frame of one multi-frame file
 * reuses the parse). Throws PixelDecodeError for a file that is not readable DICOM or lacks
 * the Image Pixel attributes.
 */
export function readPixelDataset(bytes: Uint8Array): PixelDataset {
  const hit = cache.get(bytes);
  if (hit) return hit;
  const ab = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
  let parsed: { dict: DcmjsDict; meta: DcmjsDict };
  try {
    parsed = dcmjs.data.DicomMessage.readFile(ab as ArrayBuffer, { ignoreErrors: true });
  } catch (err) {
    throw new PixelDecodeError(`not a readable DICOM Part-10 file: ${(err as Error).message}`, {}, { cause: err });
  }
  const { dict, meta } = parsed;
  const transferSyntaxUid = str(meta, '00020010') ?? '';
  const sopInstanceUid = str(dict, '00080018') ?? str(meta, '00020003');
  const ctx = { transferSyntaxUid, sopInstanceUid };
  const fail = (msg: string): never => {
    throw new PixelDecodeError(`${sopInstanceUid ?? '(no SOPInstanceUID)'}: ${msg}`, ctx);
  };
  const rows = num(dict, '00280010');
  const columns = num(dict, '00280011');
  if (!rows || !columns) fail('Rows/Columns (0028,0010/0011) missing or zero');
  const bitsAllocated = num(dict, '00280100') ?? fail('BitsAllocated (0028,0100) missing');
  if (![1, 8, 16, 32].includes(bitsAllocated)) fail(`BitsAllocated ${bitsAllocated} is not 1, 8, 16 or 32`);
  const bitsStored = num(dict, '00280101') ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) fail(`BitsStored ${bitsStored} is outside 1..BitsAllocated (${bitsAllocated})`);
  const highBit = num(dict, '00280102') ?? bitsStored - 1;
  if (highBit < bitsStored - 1 || highBit >= bitsAllocated) fail(`HighBit ${highBit} does not fit BitsStored ${bitsStored} in BitsAllocated ${bitsAllocated}`);
  const pr = num(dict, '00280103') ?? 0;
  if (pr !== 0 && pr !== 1) fail(`PixelRepresentation ${pr} is not 0 or 1`);
  const frames = num(dict, '00280008') ?? 1;
  if (!Number.isInteger(frames) || frames < 1) fail(`NumberOfFrames ${frames} is not a positive integer`);

  const pixelElement = dict['7FE00010'];
  const values = pixelElement?.Value ?? [];
  let pixelData: PixelDataset['pixelData'];
  if (NATIVE.has(transferSyntaxUid)) {
    const b = toBytes(values[0]);
    if (!b) fail('no pixel data (7FE0,0010)');
    pixelData = { kind: 'native', bytes: b as Uint8Array };
  } else {
    const items = values.map(toBytes);
    if (items.length === 0 || items.some((x) => x === undefined)) fail('no encapsulated pixel data items (7FE0,0010)');
    pixelData = { kind: 'encapsulated', items: items as Uint8Array[] };
  }

  const shared = item(dict, '52009229');
  const perFrame = dict['52009230']?.Value as DcmjsDict[] | undefined;
  const topSpacing = pair(dict, '00280030');
  const topSlope = num(dict, '00281053');
  const topIntercept = num(dict, '00281052');
  const frameCache = new Map<number, FrameAttributes>();
  const frame = (index: number): FrameAttributes => {
    let attrs = frameCache.get(index);
    if (attrs) return attrs;
    const own = perFrame?.[index];
    // Functional groups: the per-frame item wins over the shared one, which wins over top level.
    const groupValue = <T>(seq: string, read: (d: DcmjsDict | undefined) => T | undefined): T | undefined =>
      read(item(own, seq)) ?? read(item(shared, seq));
    const slope = groupValue('00289145', (d) => num(d, '00281053')) ?? topSlope ?? 1;
    const intercept = groupValue('00289145', (d) => num(d, '00281052')) ?? topIntercept ?? 0;
    const spacing = groupValue('00289110', (d) => pair(d, '00280030')) ?? topSpacing;
    attrs = { rescaleSlope: slope, rescaleIntercept: intercept };
    if (spacing) attrs.pixelSpacing = spacing;
    frameCache.set(index, attrs);
    return attrs;
  };

  let extendedOffsets: number[] | undefined;
  const eot = toBytes(first(dict, '7FE00001'));
  if (eot && eot.byteLength >= 8) {
    const v = new DataView(eot.buffer, eot.byteOffset, eot.byteLength);
    extendedOffsets = [];
    for (let i = 0; i + 8 <= eot.byteLength; i += 8) extendedOffsets.push(Number(v.getBigUint64(i, true)));
  }

  const ds: PixelDataset = {
    transferSyntaxUid,
    sopInstanceUid,
    rows: rows as number,
    columns: columns as number,
    samplesPerPixel: num(dict, '00280002') ?? 1,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation: pr as 0 | 1,
    photometricInterpretation: str(dict, '00280004') ?? '',
    numberOfFrames: frames,
    pixelData,
    extendedOffsets,
    frame,
  };
  cache.set(bytes, ds);
  return ds;
}
