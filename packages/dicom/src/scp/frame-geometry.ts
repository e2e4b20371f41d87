/**
 * Per-frame facts of a received multi-frame instance, taken from the functional groups that the
 * SCP's structure walk copied out while it checked the dataset (no second pass, no pixel data,
 * memory bounded by {@link FUNCTIONAL_GROUPS_CAPTURE}). The bytes become a small naturalized
 * dataset and {@link readFrameFacts} does the rest, the same code routing runs on dcmjs headers.
 */
import { FunctionalGroupsError, hasFunctionalGroups, readFrameFacts, type FrameFacts } from '../enhanced.js';
import type { NaturalDataset } from '../header.js';
import type { Bytes, CaptureSpec, CapturedItem, DatasetStructure } from './dataset-structure.js';

/** What the instance row records about frames. */
export interface FrameIdentity {
  /** NumberOfFrames (0028,0008) when present. */
  numberOfFrames?: number;
  /** One record per frame, from the functional groups (absent when the object has none). */
  frames?: FrameFacts[];
  /** Why the functional groups could not be read (the instance is still stored as received). */
  frameGeometryError?: string;
}

export const NUMBER_OF_FRAMES_TAG = 0x00280008;

/** Sequences (with their keyword) whose items the walk copies: the two functional group sequences and the macros we read. */
const SEQUENCES: ReadonlyMap<number, string> = new Map([
  [0x52009229, 'SharedFunctionalGroupsSequence'],
  [0x52009230, 'PerFrameFunctionalGroupsSequence'],
  [0x00209113, 'PlanePositionSequence'],
  [0x00209116, 'PlaneOrientationSequence'],
  [0x00289110, 'PixelMeasuresSequence'],
  [0x00209111, 'FrameContentSequence'],
  [0x00189226, 'MRImageFrameTypeSequence'],
  [0x00189112, 'MRTimingAndRelatedParametersSequence'],
  [0x00189114, 'MREchoSequence'],
  [0x00289145, 'PixelValueTransformationSequence'],
]);

/** Values copied from those items: keyword and VR (PS3.6), the VR used when the dataset is implicit VR. */
const VALUES: ReadonlyMap<number, { keyword: string; vr: string }> = new Map([
  [0x00200032, { keyword: 'ImagePositionPatient', vr: 'DS' }],
  [0x00200037, { keyword: 'ImageOrientationPatient', vr: 'DS' }],
  [0x00280030, { keyword: 'PixelSpacing', vr: 'DS' }],
  [0x00180050, { keyword: 'SliceThickness', vr: 'DS' }],
  [0x00209056, { keyword: 'StackID', vr: 'SH' }],
  [0x00209057, { keyword: 'InStackPositionNumber', vr: 'UL' }],
  [0x00209128, { keyword: 'TemporalPositionIndex', vr: 'UL' }],
  [0x00089007, { keyword: 'FrameType', vr: 'CS' }],
  [0x00180080, { keyword: 'RepetitionTime', vr: 'DS' }],
  [0x00189082, { keyword: 'EffectiveEchoTime', vr: 'FD' }],
  [0x00281053, { keyword: 'RescaleSlope', vr: 'DS' }],
  [0x00281052, { keyword: 'RescaleIntercept', vr: 'DS' }],
]);

/** Items per frame we may copy: the frame's own item plus one per macro above. */
const ITEMS_PER_FRAME = SEQUENCES.size - 1;
/**
 * Functional group items copied at most: enough for 16,384 frames with every macro per frame.
 * Beyond that the instance is stored without frame facts (frameGeometryError says so).
 */
export const MAX_CAPTURED_FRAME_ITEMS = 16_384 * ITEMS_PER_FRAME + 16;

/** The nested content the structure walk copies out for {@link frameIdentityOf}. */
export const FUNCTIONAL_GROUPS_CAPTURE: CaptureSpec = {
  sequences: new Set(SEQUENCES.keys()),
  values: new Set(VALUES.keys()),
  maxItems: MAX_CAPTURED_FRAME_ITEMS,
  // DS is 16 bytes per value: 6 values and separators fit in 128; 1 KiB leaves room for padding.
  maxValueBytes: 1024,
};

function hex(tag: number): string {
  const h = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

/** A copied value as dcmjs would naturalize it (a number or string, or an array when multi-valued). */
function naturalValue(tag: number, v: { vr: string | undefined; length: number; bytes?: Buffer }, le: boolean): unknown {
  const spec = VALUES.get(tag);
  if (!v.bytes) throw new FunctionalGroupsError(`${spec?.keyword ?? 'value'} ${hex(tag)} has a ${v.length}-byte value: too long for its VR`);
  const b = v.bytes;
  const vr = v.vr === undefined || v.vr === 'UN' ? spec?.vr : v.vr;
  let list: unknown[];
  switch (vr) {
    case 'UL':
      list = Array.from({ length: Math.floor(b.length / 4) }, (_, i) => (le ? b.readUInt32LE(i * 4) : b.readUInt32BE(i * 4)));
      break;
    case 'US':
      list = Array.from({ length: Math.floor(b.length / 2) }, (_, i) => (le ? b.readUInt16LE(i * 2) : b.readUInt16BE(i * 2)));
      break;
    case 'FD':
      list = Array.from({ length: Math.floor(b.length / 8) }, (_, i) => (le ? b.readDoubleLE(i * 8) : b.readDoubleBE(i * 8)));
      break;
    case 'FL':
      list = Array.from({ length: Math.floor(b.length / 4) }, (_, i) => (le ? b.readFloatLE(i * 4) : b.readFloatBE(i * 4)));
      break;
    default: {
      // Text VRs (DS, IS, CS, SH): ASCII in every character set these VRs allow.
      const text = b.toString('latin1').replace(/[\0 ]+$/, '');
      if (text.trim() === '') return undefined;
      list = text.split('\\').map((x) => x.trim());
    }
  }
  if (list.length === 0) return undefined;
  return list.length === 1 ? list[0] : list;
}

function naturalItem(item: CapturedItem, le: boolean): NaturalDataset {
  const out: NaturalDataset = {};
  for (const [tag, v] of item.values) {
    const keyword = VALUES.get(tag)?.keyword;
    const value = keyword ? naturalValue(tag, v, le) : undefined;
    if (keyword && value !== undefined) out[keyword] = value;
  }
  for (const [tag, items] of item.sequences) {
    const keyword = SEQUENCES.get(tag);
    if (keyword) out[keyword] = items.map((i) => naturalItem(i, le));
  }
  return out;
}

/** NumberOfFrames (IS) from its top-level value, if present and an integer. */
function numberOfFrames(buf: Bytes, s: DatasetStructure): number | undefined {
  const v = s.values.get(NUMBER_OF_FRAMES_TAG);
  if (!v || v.length > 64) return undefined;
  const text = buf.toString('latin1', v.offset, v.offset + v.length).replace(/[\0 ]+$/, '').trim();
  const n = text === '' ? Number.NaN : Number(text);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Frame facts of a walked dataset (walked with {@link NUMBER_OF_FRAMES_TAG} wanted and
 * {@link FUNCTIONAL_GROUPS_CAPTURE}). Never throws for bad functional groups: a multi-frame whose
 * groups contradict themselves is still stored as received; the reason is recorded instead, and
 * the stages that need the geometry fail the study with it.
 */
export function frameIdentityOf(buf: Bytes, s: DatasetStructure, littleEndian: boolean): FrameIdentity {
  const out: FrameIdentity = {};
  const n = numberOfFrames(buf, s);
  if (n !== undefined) out.numberOfFrames = n;
  if (s.sequences.size === 0) return out;
  try {
    const ds: NaturalDataset = naturalItem({ values: new Map(), sequences: s.sequences }, littleEndian);
    if (!hasFunctionalGroups(ds)) return out;
    if (s.captureOverflow) {
      out.frameGeometryError = `functional groups hold more than ${MAX_CAPTURED_FRAME_ITEMS} items (about ${Math.floor(MAX_CAPTURED_FRAME_ITEMS / ITEMS_PER_FRAME)} frames): too many to read`;
      return out;
    }
    const raw = s.values.get(NUMBER_OF_FRAMES_TAG);
    if (raw) ds.NumberOfFrames = buf.toString('latin1', raw.offset, raw.offset + Math.min(raw.length, 64)).replace(/[\0 ]+$/, '').trim();
    out.frames = readFrameFacts(ds).frames;
  } catch (err) {
    if (!(err instanceof FunctionalGroupsError)) throw err;
    out.frameGeometryError = err.message;
  }
  return out;
}
