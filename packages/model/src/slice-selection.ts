/**
 * Slice selection of the input contract `ldh-input-v2` (the same in v1): which images of a study
 * are classified (TypeScript twin of training/slices.py; definition in training/INPUT_CONTRACT.md).
 * The model was trained on exactly these slices — central sagittal slices show the canal and disc
 * margins, axial slices are spread over the stack — so the worker must pick the same ones.
 *
 * Order is by position along the slice normal (IPP · (row × column cosines)), never file or
 * arrival order, ties broken by InstanceNumber and then SOP Instance UID.
 *
 * A multi-frame instance with per-frame geometry (Enhanced MR) contributes one slice per frame,
 * placed by that frame's own position and orientation (ties: frame number); the chosen slice then
 * names its frame (1-based DICOM frame number). Single-frame instances select exactly as before,
 * so the Python twin (single-frame training data) and the parity fixtures are unchanged.
 */
import { ModelInputError } from './errors.js';
import type { InputContract } from './preprocess.js';

export type SliceRole = 't1_sag' | 't2_sag' | 't2_ax';

/** One frame of a multi-frame instance, as ingest recorded it (FrameFacts of @ldh/dicom fit). */
export interface SliceFrame {
  /** 1-based DICOM frame number. */
  frameNumber: number;
  imagePositionPatient?: readonly number[] | undefined;
  imageOrientationPatient?: readonly number[] | undefined;
}

export interface SliceInstance {
  sopInstanceUid: string;
  imagePositionPatient?: readonly number[] | undefined;
  imageOrientationPatient?: readonly number[] | undefined;
  instanceNumber?: number | undefined;
  /** NumberOfFrames when the instance has the attribute. */
  numberOfFrames?: number | null | undefined;
  /** Per-frame geometry of a multi-frame (Enhanced MR): each frame is a slice of its own. */
  frames?: readonly SliceFrame[] | null | undefined;
  /** Why ingest could not read the frames (named in the error when a multi-frame has none). */
  frameGeometryError?: string | null | undefined;
}

/** A chosen image: an instance, or one frame of a multi-frame instance. */
export interface ChosenSlice {
  sopInstanceUid: string;
  /** 1-based DICOM frame number (Referenced Frame Number) when the slice is a frame of a multi-frame. */
  frameNumber?: number;
}

/** Chosen slices per role, in stack order (roles without series are absent). */
export type SelectedFrames = Partial<Record<SliceRole, ChosenSlice[]>>;

export interface SeriesForSelection {
  role: SliceRole;
  instances: readonly SliceInstance[];
}

/** Chosen SOP Instance UIDs per role, in stack order (roles without series are absent). */
export type SelectedSlices = Partial<Record<SliceRole, string[]>>;

/** Position of a slice along its normal; 0 when geometry is missing or malformed. */
export function slicePosition(ipp: readonly number[] | undefined, iop: readonly number[] | undefined): number {
  if (!ipp || !iop || ipp.length !== 3 || iop.length !== 6) return 0;
  const [r0, r1, r2, c0, c1, c2] = iop as [number, number, number, number, number, number];
  const n0 = r1 * c2 - r2 * c1;
  const n1 = r2 * c0 - r0 * c2;
  const n2 = r0 * c1 - r1 * c0;
  const [x, y, z] = ipp as [number, number, number];
  return x * n0 + y * n1 + z * n2;
}

/** Instances in stack order: (position, InstanceNumber ?? 0, SOP Instance UID). */
export function sortInstances<T extends SliceInstance>(instances: readonly T[]): T[] {
  return sortKeyed(instances.map((inst) => ({ inst, frameNumber: 0, ipp: inst.imagePositionPatient, iop: inst.imageOrientationPatient }))).map((k) => k.inst);
}

interface Keyed<T extends SliceInstance> {
  inst: T;
  /** 0 for a single-frame instance. */
  frameNumber: number;
  ipp: readonly number[] | undefined;
  iop: readonly number[] | undefined;
}

/** Stack order: (position, InstanceNumber ?? 0, SOP Instance UID, frame number). */
function sortKeyed<T extends SliceInstance>(slices: Array<Keyed<T>>): Array<Keyed<T>> {
  const keyed = slices.map((k) => ({ k, d: slicePosition(k.ipp, k.iop), n: k.inst.instanceNumber ?? 0 }));
  keyed.sort((a, b) => {
    if (a.d !== b.d) return a.d - b.d;
    if (a.n !== b.n) return a.n - b.n;
    // Python compares str code points; so does this (not localeCompare).
    const ua = a.k.inst.sopInstanceUid;
    const ub = b.k.inst.sopInstanceUid;
    if (ua !== ub) return ua < ub ? -1 : 1;
    return a.k.frameNumber - b.k.frameNumber;
  });
  return keyed.map((x) => x.k);
}

/**
 * The slices of a series: a single-frame instance is one slice; a multi-frame with per-frame
 * geometry is one slice per frame. A multi-frame without it cannot be placed in the stack:
 * ModelInputError naming the instance (and ingest's reason, when it recorded one).
 */
function slicesOf(instances: readonly SliceInstance[]): Array<Keyed<SliceInstance>> {
  return instances.flatMap((inst) => {
    if (inst.frames && inst.frames.length > 0) {
      return inst.frames.map((f) => ({ inst, frameNumber: f.frameNumber, ipp: f.imagePositionPatient, iop: f.imageOrientationPatient }));
    }
    if ((inst.numberOfFrames ?? 1) > 1 || inst.frameGeometryError) {
      const why = inst.frameGeometryError ? `: ${inst.frameGeometryError}` : '';
      throw new ModelInputError(`${inst.sopInstanceUid}: multi-frame image (${inst.numberOfFrames ?? '?'} frames) without per-frame geometry${why}`);
    }
    return [{ inst, frameNumber: 0, ipp: inst.imagePositionPatient, iop: inst.imageOrientationPatient }];
  });
}

/** The min(k, n) indices around the middle of 0..n−1, starting at ⌊(n − m)/2⌋. */
export function centralIndices(n: number, k: number): number[] {
  const m = Math.min(k, n);
  const start = Math.floor((n - m) / 2);
  return Array.from({ length: m }, (_, i) => start + i);
}

/** k indices evenly spread over 0..n−1 including both ends (all of them when n ≤ k). */
export function spreadIndices(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  if (k === 1) return [Math.floor((n - 1) / 2)];
  // round_half_up(i·(n−1)/(k−1)) in integer arithmetic, exactly as the Python side.
  return Array.from({ length: k }, (_, i) => Math.floor((2 * i * (n - 1) + (k - 1)) / (2 * (k - 1))));
}

/** Slices (instances or frames) of one series for its role, in stack order. */
export function selectSeriesFrames(series: SeriesForSelection, contract: Pick<InputContract, 'sliceSelection'>): ChosenSlice[] {
  const ordered = sortKeyed(slicesOf(series.instances));
  const sel = contract.sliceSelection;
  let idx: number[];
  if (series.role === 't1_sag' || series.role === 't2_sag') idx = centralIndices(ordered.length, sel.sagittalCentralSlices);
  else if (series.role === 't2_ax') idx = spreadIndices(ordered.length, sel.axialMaxSlices);
  else throw new ModelInputError(`unknown series role "${String(series.role)}"`);
  return idx.map((i) => {
    const k = ordered[i] as Keyed<SliceInstance>;
    return k.frameNumber > 0 ? { sopInstanceUid: k.inst.sopInstanceUid, frameNumber: k.frameNumber } : { sopInstanceUid: k.inst.sopInstanceUid };
  });
}

/** {@link selectSeriesFrames} for single-frame series: the chosen SOP Instance UIDs. */
export function selectSeries(series: SeriesForSelection, contract: Pick<InputContract, 'sliceSelection'>): string[] {
  return selectSeriesFrames(series, contract).map((c) => uidOnly(c));
}

function uidOnly(c: ChosenSlice): string {
  if (c.frameNumber !== undefined) throw new ModelInputError(`${c.sopInstanceUid}: a frame of a multi-frame image was chosen; use selectFrames`);
  return c.sopInstanceUid;
}

/**
 * The images of a study to classify, per role: instances, or frames of multi-frame instances.
 * Several series of one role are each selected and concatenated in the given series order.
 */
export function selectFrames(series: readonly SeriesForSelection[], contract: Pick<InputContract, 'sliceSelection'>): SelectedFrames {
  const out: SelectedFrames = {};
  for (const s of series) {
    const picked = selectSeriesFrames(s, contract);
    out[s.role] = [...(out[s.role] ?? []), ...picked];
  }
  return out;
}

/**
 * {@link selectFrames} as SOP Instance UIDs, for studies of single-frame images (the form the
 * Python twin and the parity fixtures use); a chosen frame is a ModelInputError.
 */
export function selectSlices(series: readonly SeriesForSelection[], contract: Pick<InputContract, 'sliceSelection'>): SelectedSlices {
  const out: SelectedSlices = {};
  for (const [role, picked] of Object.entries(selectFrames(series, contract)) as Array<[SliceRole, ChosenSlice[]]>) out[role] = picked.map(uidOnly);
  return out;
}
