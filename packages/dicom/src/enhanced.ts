/**
 * Per-frame facts of a multi-frame image with functional groups (Enhanced MR Image Storage, the
 * default of current Philips and Siemens XA scanners; also Enhanced CT, Segmentation, ...).
 *
 * Such an object has no top-level ImagePositionPatient: every frame's plane position,
 * orientation, pixel measures and MR timing live in the Shared Functional Groups Sequence
 * (5200,9229: one item, valid for all frames) or the Per-Frame Functional Groups Sequence
 * (5200,9230: one item per frame), PS3.3 C.7.6.16. This module resolves both into one record per
 * frame. It reads a naturalized dataset (dcmjs' shape, keyword → value), so routing can call it
 * on a header read with `readPart10`, and the SCP on the few attributes its byte walker extracts.
 */
import type { NaturalDataset } from './header.js';

/** Facts of one frame (1-based DICOM frame number); absent when the object does not say. */
export interface FrameFacts {
  frameNumber: number;
  /** Plane Position Sequence (0020,9113) > ImagePositionPatient, mm. */
  imagePositionPatient?: number[];
  /** Plane Orientation Sequence (0020,9116) > ImageOrientationPatient (row then column cosines). */
  imageOrientationPatient?: number[];
  /** Pixel Measures Sequence (0028,9110) > PixelSpacing (row spacing, column spacing), mm. */
  pixelSpacing?: number[];
  /** Pixel Measures Sequence > SliceThickness, mm. */
  sliceThickness?: number;
  /** Frame Content Sequence (0020,9111) > StackID: frames of one stack share it (angled blocks differ). */
  stackId?: string;
  /** Frame Content Sequence > InStackPositionNumber (1 = first slice of the stack). */
  inStackPositionNumber?: number;
  /** Frame Content Sequence > TemporalPositionIndex (dynamic series). */
  temporalPositionIndex?: number;
  /** MR Image Frame Type Sequence (0018,9226) > FrameType, e.g. ORIGINAL\PRIMARY\M\NONE. */
  frameType?: string[];
  /** MR Timing and Related Parameters Sequence (0018,9112) > RepetitionTime, ms. */
  repetitionTime?: number;
  /** MR Echo Sequence (0018,9114) > EffectiveEchoTime, ms. */
  effectiveEchoTime?: number;
  /** Pixel Value Transformation Sequence (0028,9145) > RescaleSlope / RescaleIntercept. */
  rescaleSlope?: number;
  rescaleIntercept?: number;
}

/** The frames of one multi-frame instance, in frame-number order. */
export interface MultiFrameFacts {
  numberOfFrames: number;
  frames: FrameFacts[];
}

/** The functional groups contradict the object (counts, item shapes, malformed values); the message names the attribute and frame. */
export class FunctionalGroupsError extends Error {
  override readonly name = 'FunctionalGroupsError';
}

/** Enhanced MR Image Storage. */
export const ENHANCED_MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4.1';

/** Frames above this are refused: a per-frame record each would be an unbounded allocation (2^31 is legal in IS). */
export const MAX_FRAMES = 65_536;

type Item = Record<string, unknown>;

/** True when the dataset carries functional groups (so per-frame facts apply, whatever the SOP class). */
export function hasFunctionalGroups(ds: NaturalDataset): boolean {
  return ds.SharedFunctionalGroupsSequence !== undefined || ds.PerFrameFunctionalGroupsSequence !== undefined;
}

function items(value: unknown, what: string): Item[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const it of list) {
    if (it === null || typeof it !== 'object' || Array.isArray(it)) throw new FunctionalGroupsError(`${what}: an item is not a dataset`);
  }
  return list as Item[];
}

/** The first item of a macro's sequence inside a functional group item (macros hold exactly one). */
function macro(group: Item | undefined, keyword: string, where: string): Item | undefined {
  if (!group) return undefined;
  const list = items(group[keyword], `${keyword} in ${where}`);
  if (list.length > 1) throw new FunctionalGroupsError(`${keyword} in ${where} has ${list.length} items; the macro allows one`);
  return list[0];
}

function numbers(value: unknown, count: number | undefined, what: string): number[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const list = (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'string' ? v.trim() : v));
  const out = list.map((v) => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : Number.NaN));
  if (out.some((n) => !Number.isFinite(n)) || (count !== undefined && out.length !== count)) {
    throw new FunctionalGroupsError(`${what} is not ${count ?? 'a list of'} number${count === 1 ? '' : 's'}`);
  }
  return out;
}

function one(value: unknown, what: string): number | undefined {
  return numbers(value, 1, what)?.[0];
}

function strings(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const out = (Array.isArray(value) ? value : [value]).map((v) => String(v).trim());
  return out.length > 0 && out.some((s) => s !== '') ? out : undefined;
}

/** Attributes looked up in the frame's own group first, then in the shared group. */
function lookup(frameGroup: Item | undefined, shared: Item | undefined, frame: number) {
  const where = `frame ${frame}`;
  return (keyword: string): Item | undefined => macro(frameGroup, keyword, `PerFrameFunctionalGroupsSequence ${where}`) ?? macro(shared, keyword, 'SharedFunctionalGroupsSequence');
}

/**
 * Resolves the Shared and Per-Frame Functional Groups into one {@link FrameFacts} per frame (a
 * macro in the frame's own group wins over the shared one). Throws {@link FunctionalGroupsError}
 * when NumberOfFrames is missing or invalid, when neither sequence is present, when the
 * per-frame sequence does not hold one item per frame, when the shared sequence does not hold
 * exactly one item, or when a geometry value is malformed. A frame whose groups simply lack a
 * macro gets no value for it (the consumer decides: Enhanced MR requires plane position and
 * orientation, a Segmentation may omit them).
 */
export function readFrameFacts(ds: NaturalDataset): MultiFrameFacts {
  const numberOfFrames = one(ds.NumberOfFrames, 'NumberOfFrames (0028,0008)');
  if (numberOfFrames === undefined) throw new FunctionalGroupsError('NumberOfFrames (0028,0008) is missing');
  if (!Number.isInteger(numberOfFrames) || numberOfFrames < 1) throw new FunctionalGroupsError(`NumberOfFrames (0028,0008) is ${numberOfFrames}, not a positive integer`);
  if (numberOfFrames > MAX_FRAMES) throw new FunctionalGroupsError(`NumberOfFrames (0028,0008) is ${numberOfFrames}, more than the ${MAX_FRAMES} supported`);
  if (!hasFunctionalGroups(ds)) {
    throw new FunctionalGroupsError('neither SharedFunctionalGroupsSequence (5200,9229) nor PerFrameFunctionalGroupsSequence (5200,9230) is present');
  }
  const sharedItems = items(ds.SharedFunctionalGroupsSequence, 'SharedFunctionalGroupsSequence (5200,9229)');
  if (ds.SharedFunctionalGroupsSequence !== undefined && sharedItems.length !== 1) {
    throw new FunctionalGroupsError(`SharedFunctionalGroupsSequence (5200,9229) has ${sharedItems.length} items; it must have exactly one`);
  }
  const perFrame = items(ds.PerFrameFunctionalGroupsSequence, 'PerFrameFunctionalGroupsSequence (5200,9230)');
  if (ds.PerFrameFunctionalGroupsSequence !== undefined && perFrame.length !== numberOfFrames) {
    throw new FunctionalGroupsError(`PerFrameFunctionalGroupsSequence (5200,9230) has ${perFrame.length} items for ${numberOfFrames} frames`);
  }
  const shared = sharedItems[0];
  const frames: FrameFacts[] = [];
  for (let k = 0; k < numberOfFrames; k++) {
    const n = k + 1;
    const get = lookup(perFrame[k], shared, n);
    const at = (keyword: string) => `${keyword} of frame ${n}`;
    const facts: FrameFacts = { frameNumber: n };
    const set = <K extends keyof FrameFacts>(key: K, value: FrameFacts[K] | undefined): void => {
      if (value !== undefined) facts[key] = value;
    };
    const position = get('PlanePositionSequence');
    const orientation = get('PlaneOrientationSequence');
    const measures = get('PixelMeasuresSequence');
    const content = get('FrameContentSequence');
    set('imagePositionPatient', numbers(position?.ImagePositionPatient, 3, at('ImagePositionPatient (0020,0032)')));
    set('imageOrientationPatient', numbers(orientation?.ImageOrientationPatient, 6, at('ImageOrientationPatient (0020,0037)')));
    set('pixelSpacing', numbers(measures?.PixelSpacing, 2, at('PixelSpacing (0028,0030)')));
    set('sliceThickness', one(measures?.SliceThickness, at('SliceThickness (0018,0050)')));
    const stack = strings(content?.StackID)?.[0];
    if (stack) facts.stackId = stack;
    set('inStackPositionNumber', one(content?.InStackPositionNumber, at('InStackPositionNumber (0020,9057)')));
    set('temporalPositionIndex', one(content?.TemporalPositionIndex, at('TemporalPositionIndex (0020,9128)')));
    set('frameType', strings(get('MRImageFrameTypeSequence')?.FrameType));
    set('repetitionTime', one(get('MRTimingAndRelatedParametersSequence')?.RepetitionTime, at('RepetitionTime (0018,0080)')));
    set('effectiveEchoTime', one(get('MREchoSequence')?.EffectiveEchoTime, at('EffectiveEchoTime (0018,9082)')));
    const transform = get('PixelValueTransformationSequence');
    set('rescaleSlope', one(transform?.RescaleSlope, at('RescaleSlope (0028,1053)')));
    set('rescaleIntercept', one(transform?.RescaleIntercept, at('RescaleIntercept (0028,1052)')));
    frames.push(facts);
  }
  return { numberOfFrames, frames };
}

/**
 * {@link readFrameFacts} for an Enhanced MR image, which must give every frame a plane position
 * and orientation (PS3.3 A.36.2.4: both macros are Mandatory): throws
 * {@link FunctionalGroupsError} naming the first frame without them.
 */
export function readEnhancedMrFrames(ds: NaturalDataset): MultiFrameFacts {
  const facts = readFrameFacts(ds);
  for (const f of facts.frames) {
    if (!f.imagePositionPatient) throw new FunctionalGroupsError(`frame ${f.frameNumber} has no PlanePositionSequence (0020,9113) > ImagePositionPatient`);
    if (!f.imageOrientationPatient) throw new FunctionalGroupsError(`frame ${f.frameNumber} has no PlaneOrientationSequence (0020,9116) > ImageOrientationPatient`);
  }
  return facts;
}
