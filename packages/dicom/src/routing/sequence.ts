/**
 * Weighting from the acquisition parameters in the header, for series whose description is
 * empty, unfamiliar or wrong. Relaxation times depend on the field strength (T1 of tissue is
 * much shorter at 0.3 T than at 3 T), so the TR/TE limits come from a table by field strength
 * instead of one pair of numbers. Inversion recovery is decided by TI: a short TI nulls fat
 * (STIR: not a T1/T2 input), a long TI with a short TE is T1 FLAIR (GE's usual spine T1).
 */

export type Weighting = 't1' | 't2' | 'other';

/** Header parameters that say how a series was acquired (all optional: vendors omit some). */
export interface SequenceParameters {
  repetitionTime?: number | null;
  echoTime?: number | null;
  inversionTime?: number | null;
  echoTrainLength?: number | null;
  /** Tesla. */
  magneticFieldStrength?: number | null;
  /** (0018,0020): SE, IR, GR, EP, RM. */
  scanningSequence?: readonly string[] | null;
  /** (0018,0021): SK, MTC, SS, TRSS, SP, MP, OSP, NONE. */
  sequenceVariant?: readonly string[] | null;
}

/** TR/TE limits (ms) of T1- and T2-weighted spin echo at one field strength. */
export interface TimingLimits {
  label: string;
  t1MaxTr: number;
  t1MaxTe: number;
  t2MinTr: number;
  t2MinTe: number;
}

/**
 * Limits by field strength. Low field (0.2–0.5 T, e.g. Hitachi Airis, Esaote): shorter T1 so T2
 * needs less TR, and lower bandwidth so T1 spin echo often runs TE 20–35 ms. 3 T: T1 TSE is
 * commonly run at TR 700–1100 ms and T2 at TR ≥ 2500 ms.
 */
export function timingLimits(fieldStrength: number | null | undefined): TimingLimits {
  const b = fieldStrength ?? undefined;
  if (b !== undefined && b > 0 && b < 1.0) return { label: `${b} T (low field)`, t1MaxTr: 700, t1MaxTe: 35, t2MinTr: 1500, t2MinTe: 70 };
  if (b !== undefined && b >= 2.0) return { label: `${b} T`, t1MaxTr: 1100, t1MaxTe: 30, t2MinTr: 2500, t2MinTe: 60 };
  if (b !== undefined && b >= 1.0) return { label: `${b} T`, t1MaxTr: 900, t1MaxTe: 30, t2MinTr: 2000, t2MinTe: 60 };
  return { label: 'unknown field strength', t1MaxTr: 1000, t1MaxTe: 30, t2MinTr: 2000, t2MinTe: 60 };
}

/** TI (ms) below which an inversion nulls fat (STIR: fat T1 × ln 2 is 80–230 ms from 0.3 to 3 T). */
export const STIR_MAX_TI = 350;
/** TI (ms) from which an inversion with a short TE is a T1 FLAIR / T1 IR. */
export const T1_FLAIR_MIN_TI = 600;
/** TE (ms) above which a series is heavily T2-weighted (myelographic, MRCP-like): not a T2 input. */
export const MYELOGRAPHIC_MIN_TE = 250;

/** The weighting the parameters point to, with the reason, or undefined when they say nothing. */
export interface ParameterWeighting {
  weighting: Weighting;
  reason: string;
  /** True when the parameters alone rule the series out whatever its description says. */
  decisive: boolean;
}

const has = (list: readonly string[] | null | undefined, code: string) => (list ?? []).some((v) => v.trim().toUpperCase() === code);

/** Weighting from TR/TE/TI, scanning sequence and field strength; undefined without TR and TE. */
export function weightingFromParameters(p: SequenceParameters): ParameterWeighting | undefined {
  const tr = p.repetitionTime ?? undefined;
  const te = p.echoTime ?? undefined;
  const ti = p.inversionTime ?? undefined;
  if (has(p.scanningSequence, 'EP')) return { weighting: 'other', reason: 'echo planar (ScanningSequence EP: diffusion or perfusion)', decisive: true };
  if (te !== undefined && te >= MYELOGRAPHIC_MIN_TE) return { weighting: 'other', reason: `TE ${te} ms: heavily T2-weighted (myelographic)`, decisive: true };
  const inversion = has(p.scanningSequence, 'IR') || (ti !== undefined && ti > 0);
  if (inversion && ti !== undefined && ti > 0) {
    if (ti < STIR_MAX_TI) return { weighting: 'other', reason: `inversion recovery with short TI ${ti} ms (STIR fat suppression)`, decisive: true };
    if (ti >= T1_FLAIR_MIN_TI && te !== undefined && te <= 30) return { weighting: 't1', reason: `inversion recovery TI ${ti} ms with short TE ${te} ms (T1 FLAIR)`, decisive: false };
    if (ti >= 1500 && te !== undefined && te >= 60) return { weighting: 'other', reason: `inversion recovery TI ${ti} ms with long TE ${te} ms (T2 FLAIR)`, decisive: true };
    return { weighting: 'other', reason: `inversion recovery TI ${ti} ms${te !== undefined ? `, TE ${te} ms` : ''}: neither T1 FLAIR nor STIR`, decisive: false };
  }
  if (tr === undefined || te === undefined) return undefined;
  const lim = timingLimits(p.magneticFieldStrength);
  const gradient = has(p.scanningSequence, 'GR') && !has(p.scanningSequence, 'SE');
  if (tr <= lim.t1MaxTr && te <= lim.t1MaxTe) {
    return { weighting: 't1', reason: `TR ${tr} / TE ${te} ms: T1-weighted at ${lim.label} (TR ≤ ${lim.t1MaxTr}, TE ≤ ${lim.t1MaxTe})${gradient ? ', gradient echo' : ''}`, decisive: false };
  }
  if (tr >= lim.t2MinTr && te >= lim.t2MinTe) {
    if (gradient) return { weighting: 'other', reason: `TR ${tr} / TE ${te} ms gradient echo: T2*-weighted`, decisive: true };
    return { weighting: 't2', reason: `TR ${tr} / TE ${te} ms: T2-weighted at ${lim.label} (TR ≥ ${lim.t2MinTr}, TE ≥ ${lim.t2MinTe})`, decisive: false };
  }
  if (gradient && te >= 15) return { weighting: 'other', reason: `TR ${tr} / TE ${te} ms gradient echo: T2*-weighted`, decisive: true };
  return { weighting: 'other', reason: `TR ${tr} / TE ${te} ms: neither T1 nor T2 at ${lim.label} (proton density or intermediate)`, decisive: false };
}

/** Acquisition traits that lower a candidate's score without changing its weighting. */
export function sequencePenalties(p: SequenceParameters): Array<{ points: number; reason: string }> {
  const out: Array<{ points: number; reason: string }> = [];
  if (has(p.scanningSequence, 'GR') && !has(p.scanningSequence, 'SE')) out.push({ points: -15, reason: 'gradient echo (ScanningSequence GR): spin echo preferred' });
  if ((p.echoTrainLength ?? 0) >= 64) out.push({ points: -15, reason: `echo train length ${p.echoTrainLength}: single-shot` });
  if (has(p.sequenceVariant, 'MP') && has(p.scanningSequence, 'GR')) out.push({ points: -5, reason: 'magnetization-prepared gradient echo (3D T1)' });
  return out;
}
