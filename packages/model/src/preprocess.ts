/**
 * Pixel pipeline of the input contracts `ldh-input-v2` (current) and `ldh-input-v1` (older cards)
 * (TypeScript twin of training/preprocess.py; the definition is training/INPUT_CONTRACT.md). A
 * model only sees what it was trained on if both sides compute the same numbers, so every step
 * mirrors the Python reference operation by operation in float64, and the parity test
 * (parity.int.test.ts) compares them on the same DICOM.
 *
 * stored → Modality LUT → (v2: the series role's region of interest, a square in millimetres) →
 * percentile window [0,1] → (MONOCHROME1: 1−x) → zero-pad to a centred square → triangle-filter
 * resize to S×S → 3 identical channels → (x − mean)/std. v1 is v2 without the ROI step.
 *
 * sharp is deliberately not used for the resize: libvips' reducers cannot be reproduced in
 * Python (see INPUT_CONTRACT.md), and the contract's filter is cheap to compute exactly here.
 */
import { createRequire } from 'node:module';
import { decodeFrame, DECODABLE_TRANSFER_SYNTAXES, PixelDecodeError, type DecodedFrame } from '@ldh/dicom';
import { ModelCardError, ModelInputError } from './errors.js';
import type { SliceRole } from './slice-selection.js';

/** The current contract id (what training writes into new cards). */
export const INPUT_CONTRACT_ID = 'ldh-input-v2';
/** Contract ids this module implements: v2, and v1 (= v2 without the ROI step) for older cards. */
export const SUPPORTED_INPUT_CONTRACTS: readonly string[] = ['ldh-input-v1', 'ldh-input-v2'];
/** The resampling named in the card's `input.resize` that this module computes. */
export const RESIZE_METHOD = 'triangle-antialias-halfpixel';

/** Region of interest of one series role: a square of `sideMm` mm centred at fraction [row, column]. */
export interface RegionOfInterest {
  centre: [number, number];
  sideMm: number;
}

/** The card's `input` fields the pipeline reads (a `ModelCard['input']` satisfies it). */
export interface InputContract {
  contract: string;
  size: number;
  windowing: { method: 'percentile'; lowPercentile: number; highPercentile: number };
  normalisation: { mean: number; std: number };
  resize: string;
  sliceSelection: { sagittalCentralSlices: number; axialMaxSlices: number };
  /** v2 only (required there): the crop applied after the Modality LUT, per series role. */
  roi?: Record<SliceRole, RegionOfInterest> | undefined;
}

/** One decoded frame: stored values (row-major) and the Modality LUT / photometric fields. */
export interface PixelInput {
  pixels: Uint16Array | Int16Array | Uint8Array | Int8Array | Uint32Array | Int32Array | Float32Array | Float64Array;
  rows: number;
  columns: number;
  rescaleSlope?: number;
  rescaleIntercept?: number;
  /** MONOCHROME1 is inverted after windowing; MONOCHROME2 (default) is not. */
  photometricInterpretation?: string;
  /** PixelSpacing (0028,0030) in mm, [row spacing, column spacing]; v2 needs it to cut the ROI. */
  pixelSpacing?: readonly number[] | undefined;
}

function roiProblem(roi: unknown): string | undefined {
  const r = roi as Partial<RegionOfInterest> | undefined;
  if (typeof r !== 'object' || r === null) return 'missing';
  const c = r.centre;
  if (!Array.isArray(c) || c.length !== 2 || !c.every((x) => typeof x === 'number' && Number.isFinite(x))) return 'centre must be two finite numbers';
  if (typeof r.sideMm !== 'number' || !Number.isFinite(r.sideMm) || r.sideMm <= 0) return 'sideMm must be a positive number';
  return undefined;
}

/**
 * Refuses a card whose contract or resampling this code does not implement: running a model on
 * differently preprocessed pixels would give confident, wrong answers.
 */
export function assertSupportedContract(contract: InputContract): void {
  if (!SUPPORTED_INPUT_CONTRACTS.includes(contract.contract)) {
    throw new ModelCardError(
      'model card',
      `input contract "${contract.contract}" is not implemented (expected one of ${SUPPORTED_INPUT_CONTRACTS.join(', ')})`,
      'input.contract',
    );
  }
  if (contract.resize !== RESIZE_METHOD) {
    throw new ModelCardError('model card', `resize "${contract.resize}" is not implemented (expected ${RESIZE_METHOD})`, 'input.resize');
  }
  if (contract.windowing.method !== 'percentile') {
    throw new ModelCardError('model card', `windowing "${String(contract.windowing.method)}" is not implemented`, 'input.windowing.method');
  }
  if (contract.contract === 'ldh-input-v2') {
    if (contract.roi === undefined) throw new ModelCardError('model card', 'contract ldh-input-v2 needs input.roi', 'input.roi');
    for (const role of ['t1_sag', 't2_sag', 't2_ax'] as const) {
      const problem = roiProblem(contract.roi[role]);
      if (problem) throw new ModelCardError('model card', `input.roi.${role}: ${problem}`, `input.roi.${role}`);
    }
  } else if (contract.roi !== undefined) {
    // Python crops whenever a card has `roi`; here v1 never does. Refuse rather than diverge.
    throw new ModelCardError('model card', `input.roi is not part of contract ${contract.contract}`, 'input.roi');
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

/** Pixel box of a ROI: it may reach outside the image (negative top/left, or past the far edge). */
export interface RoiBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** ⌊x + 0.5⌋, the contract's rounding (Python's round_half_up; not banker's rounding). */
function roundHalfUp(x: number): number {
  return Math.floor(x + 0.5);
}

/**
 * The role's ROI in pixels (mirrors roi_box()): height = round(sideMm / row spacing), width from
 * the column spacing, top = round(centre[0]·rows − height/2), left likewise; round = ⌊x + 0.5⌋.
 */
export function roiBox(rows: number, columns: number, pixelSpacing: readonly number[], roi: RegionOfInterest): RoiBox {
  const psR = pixelSpacing[0] as number;
  const psC = pixelSpacing[1] as number;
  if (!(psR > 0 && psC > 0 && Number.isFinite(psR) && Number.isFinite(psC))) {
    throw new ModelInputError(`invalid PixelSpacing [${pixelSpacing.join(', ')}]`);
  }
  const side = roi.sideMm;
  const height = Math.max(1, roundHalfUp(side / psR));
  const width = Math.max(1, roundHalfUp(side / psC));
  const top = roundHalfUp(roi.centre[0] * rows - height / 2);
  const left = roundHalfUp(roi.centre[1] * columns - width / 2);
  if (top >= rows || left >= columns || top + height <= 0 || left + width <= 0) {
    throw new ModelInputError('the region of interest lies outside the image');
  }
  return { top, left, height, width };
}

/**
 * Steps up to the resize: the S×S float64 image in [0,1] (what training caches and augments).
 * Exposed for tests and previews; classification uses preprocessImage(). `role` is the series
 * role the image was selected for; contract v2 cuts that role's ROI and needs `pixelSpacing`.
 */
export function toUnitImage(input: PixelInput, contract: InputContract, role?: SliceRole): Float64Array {
  const { rows, columns, pixels } = input;
  // DicomImage carries its UID; errors name it (never pixel data or patient fields).
  const uid = (input as { sopInstanceUid?: unknown }).sopInstanceUid;
  const who = typeof uid === 'string' ? `${uid}: ` : '';
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows <= 0 || columns <= 0) {
    throw new ModelInputError(`${who}invalid image size ${rows}x${columns}`);
  }
  if (pixels.length < rows * columns) {
    throw new ModelInputError(`${who}pixel data has ${pixels.length} values, ${rows}x${columns} needs ${rows * columns}`);
  }
  // The box that is windowed, padded and resized: the whole image (v1) or the role's ROI (v2).
  let box: RoiBox = { top: 0, left: 0, height: rows, width: columns };
  if (contract.contract === 'ldh-input-v2') {
    const roi = role === undefined ? undefined : contract.roi?.[role];
    if (roi === undefined) {
      throw new ModelInputError(`${who}the contract has no region of interest for series role ${role === undefined ? '(none given)' : `"${String(role)}"`}`);
    }
    const ps = input.pixelSpacing;
    if (ps === undefined || ps.length !== 2) throw new ModelInputError(`${who}PixelSpacing is required to cut the region of interest`);
    try {
      box = roiBox(rows, columns, ps, roi);
    } catch (err) {
      throw new ModelInputError(`${who}${(err as Error).message}`, undefined, { cause: err });
    }
  }
  const slope = input.rescaleSlope ?? 1;
  const intercept = input.rescaleIntercept ?? 0;
  // The box's part inside the image; only these pixels set the window.
  const r0 = Math.max(box.top, 0);
  const r1 = Math.min(box.top + box.height, rows);
  const c0 = Math.max(box.left, 0);
  const c1 = Math.min(box.left + box.width, columns);
  const inRows = r1 - r0;
  const inCols = c1 - c0;
  const v = new Float64Array(inRows * inCols);
  for (let r = 0; r < inRows; r++) {
    const src = (r + r0) * columns + c0;
    for (let c = 0; c < inCols; c++) v[r * inCols + c] = (pixels[src + c] as number) * slope + intercept;
  }
  const sorted = Float64Array.from(v).sort();
  const lo = percentileLinear(sorted, contract.windowing.lowPercentile);
  const hi = percentileLinear(sorted, contract.windowing.highPercentile);
  const invert = input.photometricInterpretation === 'MONOCHROME1';
  // Pad the box to a centred square; parts of the box outside the image stay 0.
  const side = Math.max(box.height, box.width);
  const top = Math.floor((side - box.height) / 2) + (r0 - box.top);
  const left = Math.floor((side - box.width) / 2) + (c0 - box.left);
  const sq = new Float64Array(side * side);
  const range = hi - lo;
  for (let r = 0; r < inRows; r++) {
    for (let c = 0; c < inCols; c++) {
      let x = hi > lo ? Math.min(1, Math.max(0, ((v[r * inCols + c] as number) - lo) / range)) : 0;
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
export function preprocessImageSync(input: PixelInput, contract: InputContract, role?: SliceRole): Float32Array {
  assertSupportedContract(contract);
  return normaliseToTensor(toUnitImage(input, contract, role), contract);
}

/**
 * One decoded frame → the model's input tensor (length 3·S·S, CHW float32) per the card's
 * contract; `role` is the series role it was selected for (v2 crops that role's ROI). Async so
 * the pipeline can move to a worker thread without changing callers.
 */
export async function preprocessImage(input: PixelInput, contract: InputContract, role?: SliceRole): Promise<Float32Array> {
  return Promise.resolve().then(() => preprocessImageSync(input, contract, role));
}

// ---------------------------------------------------------------------------------------------
// DICOM reading: pixels from @ldh/dicom's decodeFrame (every stored transfer syntax), geometry
// and identity from the header here.

interface DcmjsElement {
  vr: string;
  Value?: unknown[];
}
type DcmjsDict = Record<string, DcmjsElement>;
const require = createRequire(import.meta.url);
const dcmjs = require('dcmjs') as {
  data: { DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { dict: DcmjsDict; meta: DcmjsDict } } };
  log?: { setLevel?: (level: string) => void };
};
// dcmjs logs odd values to the console; values may be PHI.
dcmjs.log?.setLevel?.('error');

/**
 * Transfer syntaxes readDicomImage decodes: every one @ldh/dicom decodes.
 * @deprecated The name predates compressed support; use DECODABLE_TRANSFER_SYNTAXES from @ldh/dicom.
 */
export const UNCOMPRESSED_TRANSFER_SYNTAXES: readonly string[] = DECODABLE_TRANSFER_SYNTAXES;

/** One decoded frame with what slice selection and the SR need. */
export interface DicomImage extends PixelInput {
  sopInstanceUid: string;
  seriesInstanceUid: string | undefined;
  sopClassUid: string | undefined;
  instanceNumber: number | undefined;
  /** Of this frame: top level, or the per-frame/shared Plane Position/Orientation Sequence (Enhanced MR). */
  imagePositionPatient: number[] | undefined;
  imageOrientationPatient: number[] | undefined;
  transferSyntaxUid: string;
  /** 0-based frame decoded, and how many the file holds (1 for single-frame images). */
  frameIndex: number;
  numberOfFrames: number;
}

const first = (dict: DcmjsDict | undefined, tag: string): unknown => dict?.[tag]?.Value?.[0];
function num(dict: DcmjsDict | undefined, tag: string): number | undefined {
  const v = first(dict, tag);
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
function nums(dict: DcmjsDict | undefined, tag: string): number[] | undefined {
  const v = dict?.[tag]?.Value;
  if (!v || v.length === 0) return undefined;
  const out = v.map((x) => (typeof x === 'number' ? x : Number(x)));
  return out.every((x) => Number.isFinite(x)) ? out : undefined;
}
function str(dict: DcmjsDict | undefined, tag: string): string | undefined {
  const v = first(dict, tag);
  return typeof v === 'string' ? v.trim() : undefined;
}
const item = (dict: DcmjsDict | undefined, tag: string, i = 0): DcmjsDict | undefined => dict?.[tag]?.Value?.[i] as DcmjsDict | undefined;

/** Options of {@link readDicomImage}. */
export interface ReadDicomImageOptions {
  /** 0-based frame of a multi-frame image (default 0). */
  frame?: number;
}

/**
 * Decodes one frame of a Part-10 file (any transfer syntax @ldh/dicom decodes; monochrome) into
 * stored pixels, Modality LUT, spacing and geometry. Every decoding failure (unsupported
 * transfer syntax, corrupt data, colour image) is a ModelInputError naming the SOP Instance UID
 * and the transfer syntax, so the study fails with that reason.
 */
export async function readDicomImage(bytes: Uint8Array | ArrayBuffer, options: ReadDicomImageOptions = {}): Promise<DicomImage> {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const frameIndex = options.frame ?? 0;
  let frame: DecodedFrame;
  try {
    frame = await decodeFrame(u8, frameIndex);
  } catch (err) {
    if (err instanceof PixelDecodeError) throw new ModelInputError(err.message, undefined, { cause: err });
    throw err;
  }
  // The header again for identity and geometry (decodeFrame reads only the pixel attributes).
  const ab = u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength ? u8.buffer : u8.slice().buffer;
  const { dict, meta } = dcmjs.data.DicomMessage.readFile(ab as ArrayBuffer, { ignoreErrors: true, untilTag: '7FE00010' });
  const sop = str(dict, '00080018') ?? str(meta, '00020003');
  if (!sop) throw new ModelInputError('DICOM file has no SOPInstanceUID');
  // Enhanced (multi-frame) images: this frame's functional group, else the shared one.
  const own = item(dict, '52009230', frameIndex);
  const shared = item(dict, '52009229');
  const group = (seq: string, tag: string): number[] | undefined => nums(item(own, seq), tag) ?? nums(item(shared, seq), tag);
  const image: DicomImage = {
    pixels: frame.pixels,
    rows: frame.rows,
    columns: frame.columns,
    rescaleSlope: frame.rescaleSlope,
    rescaleIntercept: frame.rescaleIntercept,
    photometricInterpretation: frame.photometricInterpretation,
    sopInstanceUid: sop,
    seriesInstanceUid: str(dict, '0020000E'),
    sopClassUid: str(dict, '00080016'),
    instanceNumber: num(dict, '00200013'),
    imagePositionPatient: group('00209113', '00200032') ?? nums(dict, '00200032'),
    imageOrientationPatient: group('00209116', '00200037') ?? nums(dict, '00200037'),
    pixelSpacing: frame.pixelSpacing,
    transferSyntaxUid: frame.transferSyntaxUid,
    frameIndex: frame.frameIndex,
    numberOfFrames: frame.numberOfFrames,
  };
  return image;
}
