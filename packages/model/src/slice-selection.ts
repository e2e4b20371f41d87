/**
 * Slice selection of the input contract `ldh-input-v2` (the same in v1): which images of a study
 * are classified (TypeScript twin of training/slices.py; definition in training/INPUT_CONTRACT.md).
 * The model was trained on exactly these slices — central sagittal slices show the canal and disc
 * margins, axial slices are spread over the stack — so the worker must pick the same ones.
 *
 * Order is by position along the slice normal (IPP · (row × column cosines)), never file or
 * arrival order, ties broken by InstanceNumber and then SOP Instance UID.
 */
import { ModelInputError } from './errors.js';
import type { InputContract } from './preprocess.js';

export type SliceRole = 't1_sag' | 't2_sag' | 't2_ax';

export interface SliceInstance {
  sopInstanceUid: string;
  imagePositionPatient?: readonly number[] | undefined;
  imageOrientationPatient?: readonly number[] | undefined;
  instanceNumber?: number | undefined;
}

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
  const keyed = instances.map((inst) => ({
    inst,
    d: slicePosition(inst.imagePositionPatient, inst.imageOrientationPatient),
    n: inst.instanceNumber ?? 0,
  }));
  keyed.sort((a, b) => {
    if (a.d !== b.d) return a.d - b.d;
    if (a.n !== b.n) return a.n - b.n;
    // Python compares str code points; so does this (not localeCompare).
    return a.inst.sopInstanceUid < b.inst.sopInstanceUid ? -1 : a.inst.sopInstanceUid > b.inst.sopInstanceUid ? 1 : 0;
  });
  return keyed.map((k) => k.inst);
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

/** Slices of one series for its role. */
export function selectSeries(series: SeriesForSelection, contract: Pick<InputContract, 'sliceSelection'>): string[] {
  const ordered = sortInstances(series.instances);
  const sel = contract.sliceSelection;
  let idx: number[];
  if (series.role === 't1_sag' || series.role === 't2_sag') idx = centralIndices(ordered.length, sel.sagittalCentralSlices);
  else if (series.role === 't2_ax') idx = spreadIndices(ordered.length, sel.axialMaxSlices);
  else throw new ModelInputError(`unknown series role "${String(series.role)}"`);
  return idx.map((i) => (ordered[i] as SliceInstance).sopInstanceUid);
}

/**
 * The images of a study to classify, per role. Several series of one role are each selected
 * and concatenated in the given series order.
 */
export function selectSlices(series: readonly SeriesForSelection[], contract: Pick<InputContract, 'sliceSelection'>): SelectedSlices {
  const out: SelectedSlices = {};
  for (const s of series) {
    const picked = selectSeries(s, contract);
    out[s.role] = [...(out[s.role] ?? []), ...picked];
  }
  return out;
}
