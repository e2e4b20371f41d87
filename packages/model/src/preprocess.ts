/**
 * Pixel pipeline of the input contract `ldh-input-v1` (TypeScript twin of training/preprocess.py;
 * the definition is training/INPUT_CONTRACT.md). A model only sees what it was trained on if
 * both sides compute the same numbers, so every step mirrors the Python reference operation by
 * operation in float64, and the parity test (parity.int.test.ts) compares them on the same DICOM.
 *
 * stored → Modality LUT → percentile window [0,1] → (MONOCHROME1: 1−x) → zero-pad to a centred
 * square → triangle-filter resize to S×S → 3 identical channels → (x − mean)/std.
 *
 * sharp is deliberately not used for the resize: libvips' reducers cannot be reproduced in
 * Python (see INPUT_CONTRACT.md), and the contract's filter is cheap to compute exactly here.
 */
import { createRequire } from 'node:module';
import { ModelCardError, ModelInputError } from './errors.js';

/** The contract id this module implements. */
export const INPUT_CONTRACT_ID = 'ldh-input-v1';
/** The resampling named in the card's `input.resize` that this module computes. */
export const RESIZE_METHOD = 'triangle-antialias-halfpixel';

/** The card's `input` fields the pipeline reads (a `ModelCard['input']` satisfies it). */
export interface InputContract {
  contract: string;
  size: number;
  windowing: { method: 'percentile'; lowPercentile: number; highPercentile: number };
  normalisation: { mean: number; std: number };
  resize: string;
  sliceSelection: { sagittalCentralSlices: number; axialMaxSlices: number };
}

/** One decoded frame: stored values (row-major) and the Modality LUT / photometric fields. */
export interface PixelInput {
  pixels: Uint16Array | Int16Array | Uint8Array | Int8Array | Float32Array | Float64Array;
  rows: number;
  columns: number;
  rescaleSlope?: number;
  rescaleIntercept?: number;
  /** MONOCHROME1 is inverted after windowing; MONOCHROME2 (default) is not. */
  photometricInterpretation?: string;
}

/**
 * Refuses a card whose contract or resampling this code does not implement: running a model on
 * differently preprocessed pixels would give confident, wrong answers.
 */
export function assertSupportedContract(contract: InputContract): void {
  if (contract.contract !== INPUT_CONTRACT_ID) {
    throw new ModelCardError('model card', `input contract "${contract.contract}" is not implemented (expected ${INPUT_CONTRACT_ID})`, 'input.contract');
  }
  if (contract.resize !== RESIZE_METHOD) {
    throw new ModelCardError('model card', `resize "${contract.resize}" is not implemented (expected ${RESIZE_METHOD})`, 'input.resize');
  }
  if (contract.windowing.method !== 'percentile') {
    throw new ModelCardError('model card', `windowing "${String(contract.windowing.method)}" is not implemented`, 'input.windowing.method');
  }
}

/** numpy's default ("linear") percentile of ascending `sorted` values; mirrors percentile_linear(). */
export function percentileLinear(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new ModelInputError('empty image');
  const pos = (p / 100) * (n - 1);
  const i = Math.floor(pos);
  const j = Math.min(i + 1, n - 1);
  const a = sorted[i] as number;
  return a + ((sorted[j] as number) - a) * (pos - i);
}

/** Sparse rows of the resampling matrix: output o = Σ weights[o][t] · input[starts[o] + t]. */
export interface ResampleWeights {
  starts: Int32Array;
  weights: Float64Array[];
}

/**
 * Weights of the contract's `triangle-antialias-halfpixel` resize (PIL's antialiased bilinear):
 * c = (o + 0.5)·scale, f = max(scale, 1), w(i) = max(0, 1 − |i + 0.5 − c|/f), normalised per output.
 */
export function triangleWeights(inSize: number, outSize: number): ResampleWeights {
  const scale = inSize / outSize;
  const f = Math.max(scale, 1);
  const starts = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const c = (o + 0.5) * scale;
    const i0 = Math.max(0, Math.floor(c - f - 0.5));
    const i1 = Math.min(inSize, Math.ceil(c + f + 0.5));
    const w = new Float64Array(Math.max(0, i1 - i0));
    let sum = 0;
    for (let i = i0; i < i1; i++) {
      const t = 1 - Math.abs(i + 0.5 - c) / f;
      if (t > 0) {
        w[i - i0] = t;
        sum += t;
      }
    }
    if (sum > 0) for (let k = 0; k < w.length; k++) w[k] = (w[k] as number) / sum;
    starts[o] = i0;
    weights.push(w);
  }
  return { starts, weights };
}

/** Resizes a square side×side float64 image to size×size (rows, then columns). */
export function resizeSquare(x: Float64Array, side: number, size: number): Float64Array {
  if (side === size) return Float64Array.from(x);
  const { starts, weights } = triangleWeights(side, size);
  // Pass 1: rows. tmp[o][c] = Σ_i W[o][i] · x[i][c]
  const tmp = new Float64Array(size * side);
  for (let o = 0; o < size; o++) {
    const w = weights[o] as Float64Array;
    const s = starts[o] as number;
    const out = o * side;
    for (let t = 0; t < w.length; t++) {
      const wt = w[t] as number;
      if (wt === 0) continue;
      const src = (s + t) * side;
      for (let c = 0; c < side; c++) tmp[out + c] = (tmp[out + c] as number) + wt * (x[src + c] as number);
    }
  }
  // Pass 2: columns. y[r][o] = Σ_j tmp[r][j] · W[o][j]
  const y = new Float64Array(size * size);
  for (let r = 0; r < size; r++) {
    const row = r * side;
    for (let o = 0; o < size; o++) {
      const w = weights[o] as Float64Array;
      const s = starts[o] as number;
      let acc = 0;
      for (let t = 0; t < w.length; t++) acc += (w[t] as number) * (tmp[row + s + t] as number);
      y[r * size + o] = acc;
    }
  }
  return y;
}

/**
 * Steps up to the resize: the S×S float64 image in [0,1] (what training caches and augments).
 * Exposed for tests and previews; classification uses preprocessImage().
 */
export function toUnitImage(input: PixelInput, contract: InputContract): Float64Array {
  const { rows, columns, pixels } = input;
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows <= 0 || columns <= 0) {
    throw new ModelInputError(`invalid image size ${rows}x${columns}`);
  }
  if (pixels.length < rows * columns) {
    throw new ModelInputError(`pixel data has ${pixels.length} values, ${rows}x${columns} needs ${rows * columns}`);
  }
  const slope = input.rescaleSlope ?? 1;
  const intercept = input.rescaleIntercept ?? 0;
  const n = rows * columns;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = (pixels[i] as number) * slope + intercept;
  const sorted = Float64Array.from(v).sort();
  const lo = percentileLinear(sorted, contract.windowing.lowPercentile);
  const hi = percentileLinear(sorted, contract.windowing.highPercentile);
  const invert = input.photometricInterpretation === 'MONOCHROME1';
  const side = Math.max(rows, columns);
  const top = Math.floor((side - rows) / 2);
  const left = Math.floor((side - columns) / 2);
  const sq = new Float64Array(side * side);
  const range = hi - lo;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      let x = hi > lo ? Math.min(1, Math.max(0, ((v[r * columns + c] as number) - lo) / range)) : 0;
      if (invert) x = 1 - x;
      sq[(r + top) * side + c + left] = x;
    }
  }
  return resizeSquare(sq, side, contract.size);
}

/** [0,1] S×S image → model input: 3 identical channels (CHW), (x − mean)/std, float32. */
export function normaliseToTensor(unit: Float64Array, contract: InputContract): Float32Array {
  const plane = unit.length;
  const out = new Float32Array(3 * plane);
  const { mean, std } = contract.normalisation;
  for (let i = 0; i < plane; i++) {
    const z = ((unit[i] as number) - mean) / std;
    out[i] = z;
    out[plane + i] = z;
    out[2 * plane + i] = z;
  }
  return out;
}

/** Synchronous form of preprocessImage(), for callers that batch on their own. */
export function preprocessImageSync(input: PixelInput, contract: InputContract): Float32Array {
  assertSupportedContract(contract);
  return normaliseToTensor(toUnitImage(input, contract), contract);
}

/**
 * One decoded frame → the model's input tensor (length 3·S·S, CHW float32) per the card's
 * contract. Async so the pipeline can move to a worker thread without changing callers.
 */
export async function preprocessImage(input: PixelInput, contract: InputContract): Promise<Float32Array> {
  return Promise.resolve().then(() => preprocessImageSync(input, contract));
}

// ---------------------------------------------------------------------------------------------
// DICOM decoding (uncompressed transfer syntaxes) with dcmjs.

interface DcmjsElement {
  vr: string;
  Value?: unknown[];
}
interface DcmjsDict {
  dict: Record<string, DcmjsElement>;
  meta: Record<string, DcmjsElement>;
}
const require = createRequire(import.meta.url);
const dcmjs = require('dcmjs') as {
  data: { DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DcmjsDict } };
  log?: { setLevel?: (level: string) => void };
};
// dcmjs logs odd values to the console; values may be PHI.
dcmjs.log?.setLevel?.('error');

/** Transfer syntaxes whose pixel data is stored natively (little endian). */
export const UNCOMPRESSED_TRANSFER_SYNTAXES: readonly string[] = [
  '1.2.840.10008.1.2', // implicit VR little endian
  '1.2.840.10008.1.2.1', // explicit VR little endian
  '1.2.840.10008.1.2.1.99', // deflated explicit VR little endian (dcmjs inflates)
];

/** A decoded single-frame image with what slice selection and the SR need. */
export interface DicomImage extends PixelInput {
  sopInstanceUid: string;
  seriesInstanceUid: string | undefined;
  sopClassUid: string | undefined;
  instanceNumber: number | undefined;
  imagePositionPatient: number[] | undefined;
  imageOrientationPatient: number[] | undefined;
  transferSyntaxUid: string;
}

function first(dict: Record<string, DcmjsElement>, tag: string): unknown {
  return dict[tag]?.Value?.[0];
}
function num(dict: Record<string, DcmjsElement>, tag: string): number | undefined {
  const v = first(dict, tag);
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
function nums(dict: Record<string, DcmjsElement>, tag: string): number[] | undefined {
  const v = dict[tag]?.Value;
  if (!v || v.length === 0) return undefined;
  const out = v.map((x) => (typeof x === 'number' ? x : Number(x)));
  return out.every((x) => Number.isFinite(x)) ? out : undefined;
}
function str(dict: Record<string, DcmjsElement>, tag: string): string | undefined {
  const v = first(dict, tag);
  return typeof v === 'string' ? v.trim() : undefined;
}

/**
 * Decodes a Part-10 file (uncompressed, single frame, monochrome) into stored pixels plus
 * geometry. Compressed transfer syntaxes are refused with a ModelInputError naming the UID, so
 * the caller can decode them elsewhere (e.g. dcmjs-codecs) and call preprocessImage() directly.
 */
export function readDicomImage(bytes: Uint8Array | ArrayBuffer): DicomImage {
  const ab = bytes instanceof ArrayBuffer ? bytes : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  let parsed: DcmjsDict;
  try {
    parsed = dcmjs.data.DicomMessage.readFile(ab as ArrayBuffer, { ignoreErrors: true });
  } catch (err) {
    throw new ModelInputError(`not a readable DICOM file: ${(err as Error).message}`, undefined, { cause: err });
  }
  const { dict, meta } = parsed;
  const sop = str(dict, '00080018') ?? str(meta, '00020003');
  if (!sop) throw new ModelInputError('DICOM file has no SOPInstanceUID');
  const ts = str(meta, '00020010') ?? '';
  if (!UNCOMPRESSED_TRANSFER_SYNTAXES.includes(ts)) {
    throw new ModelInputError(`${sop}: transfer syntax ${ts || '(none)'} is not decoded here (uncompressed little endian only)`);
  }
  const rows = num(dict, '00280010');
  const columns = num(dict, '00280011');
  const bitsAllocated = num(dict, '00280100') ?? 16;
  const bitsStored = num(dict, '00280101') ?? bitsAllocated;
  const signed = (num(dict, '00280103') ?? 0) === 1;
  const samples = num(dict, '00280002') ?? 1;
  const frames = num(dict, '00280008') ?? 1;
  const photometric = str(dict, '00280004') ?? 'MONOCHROME2';
  if (rows === undefined || columns === undefined) throw new ModelInputError(`${sop}: missing Rows/Columns`);
  if (samples !== 1 || !photometric.startsWith('MONOCHROME')) {
    throw new ModelInputError(`${sop}: ${photometric} with ${samples} samples per pixel is not a monochrome image`);
  }
  if (frames !== 1) throw new ModelInputError(`${sop}: multi-frame images (${frames} frames) are not part of ${INPUT_CONTRACT_ID}`);
  const pixelValue = first(dict, '7FE00010');
  if (!(pixelValue instanceof ArrayBuffer)) throw new ModelInputError(`${sop}: no native pixel data`);
  const n = rows * columns;
  const bytesPer = bitsAllocated / 8;
  if (bytesPer !== 1 && bytesPer !== 2) throw new ModelInputError(`${sop}: BitsAllocated ${bitsAllocated} is not supported`);
  if (pixelValue.byteLength < n * bytesPer) {
    throw new ModelInputError(`${sop}: pixel data is ${pixelValue.byteLength} bytes, ${rows}x${columns}x${bytesPer} needs ${n * bytesPer}`);
  }
  const raw = pixelValue.slice(0, n * bytesPer);
  let pixels: PixelInput['pixels'];
  if (bytesPer === 2) pixels = signed ? new Int16Array(raw) : new Uint16Array(raw);
  else pixels = signed ? new Int8Array(raw) : new Uint8Array(raw);
  if (signed && bitsStored < bitsAllocated) {
    // Sign-extend from BitsStored, as pydicom does (HighBit = BitsStored − 1).
    const shift = 32 - bitsStored;
    const ext = new Int16Array(n);
    for (let i = 0; i < n; i++) ext[i] = ((pixels[i] as number) << shift) >> shift;
    pixels = bytesPer === 2 ? ext : Int8Array.from(ext);
  }
  const slope = num(dict, '00281053');
  const intercept = num(dict, '00281052');
  return {
    pixels,
    rows,
    columns,
    rescaleSlope: slope ?? 1,
    rescaleIntercept: intercept ?? 0,
    photometricInterpretation: photometric,
    sopInstanceUid: sop,
    seriesInstanceUid: str(dict, '0020000E'),
    sopClassUid: str(dict, '00080016'),
    instanceNumber: num(dict, '00200013'),
    imagePositionPatient: nums(dict, '00200032'),
    imageOrientationPatient: nums(dict, '00200037'),
    transferSyntaxUid: ts,
  };
}
