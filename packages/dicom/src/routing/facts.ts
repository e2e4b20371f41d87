/**
 * What routing knows about one series. Built by the same code everywhere: from a header plus the
 * series' instance rows ({@link seriesFactsFromHeader}, the route job) or from database rows alone
 * ({@link seriesFactsFromRecords}, the settler's cheap completeness check, no file read).
 */
import { nums, str, type NaturalDataset } from '../header.js';
import type { SequenceParameters } from './sequence.js';

/** MR Image Storage and Enhanced MR Image Storage: the only SOP classes that can hold a role. */
export const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
export const ENHANCED_MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4.1';
export const MR_IMAGE_SOP_CLASSES: ReadonlySet<string> = new Set([MR_IMAGE_STORAGE, ENHANCED_MR_IMAGE_STORAGE]);

export interface SeriesFacts extends SequenceParameters {
  seriesInstanceUid: string;
  modality?: string | null;
  seriesDescription?: string | null;
  protocolName?: string | null;
  studyDescription?: string | null;
  requestedProcedureDescription?: string | null;
  bodyPartExamined?: string | null;
  seriesNumber?: number | null;
  /** Instances received (an Enhanced MR series may hold all its slices in one). */
  instanceCount: number;
  /** SOP Class UIDs of the series' instances (distinct). */
  sopClassUids?: readonly string[] | null;
  /** ImageType (0008,0008) values, e.g. ["ORIGINAL","PRIMARY","M","ND"]. */
  imageType?: readonly string[] | null;
  /** ContrastBolusAgent (0018,0010); present and not empty means contrast was given. */
  contrastBolusAgent?: string | null;
  /** ImageOrientationPatient of a representative instance (6 direction cosines). */
  imageOrientationPatient?: readonly number[] | null;
  /**
   * Per-slice orientations and positions: one per instance, or one per frame for Enhanced MR
   * (per-frame functional groups). When given they decide plane, blocks and coverage.
   */
  orientations?: ReadonlyArray<readonly number[]> | null;
  positions?: ReadonlyArray<readonly number[]> | null;
  /** Rows and PixelSpacing of a representative image: the z span of sagittal images. */
  rows?: number | null;
  columns?: number | null;
  pixelSpacing?: readonly number[] | null;
  frameOfReferenceUid?: string | null;
  /** Other text that may name the anatomy (kept for callers of the first router). */
  extraDescriptions?: string[];
  /** Where the facts came from: 'header' (TR/TE/ImageType known) or 'database' (names and geometry only). */
  source?: 'header' | 'database';
}

/** Instance-level facts of a series, from the database (what a header of one instance cannot tell). */
export interface SeriesInstanceContext {
  seriesInstanceUid: string;
  instanceCount: number;
  sopClassUids?: readonly string[];
  /** One per instance (or per frame). */
  orientations?: ReadonlyArray<readonly number[]>;
  positions?: ReadonlyArray<readonly number[]>;
}

function strings(ds: NaturalDataset, keyword: string): string[] | undefined {
  const v = ds[keyword];
  if (v === undefined || v === null) return undefined;
  const arr = (Array.isArray(v) ? v : [v]).map((x) => String(x).trim()).filter((x) => x !== '');
  return arr.length > 0 ? arr : undefined;
}

function firstItem(ds: NaturalDataset | undefined, keyword: string): NaturalDataset | undefined {
  const v = ds?.[keyword];
  const item = Array.isArray(v) ? v[0] : v;
  return item && typeof item === 'object' ? (item as NaturalDataset) : undefined;
}

/** First number of `keyword` at the top level or in the Enhanced MR shared functional groups. */
function num(ds: NaturalDataset, keyword: string, ...path: string[]): number | undefined {
  const top = nums(ds, keyword)?.[0];
  if (top !== undefined) return top;
  let item = firstItem(ds, 'SharedFunctionalGroupsSequence');
  for (const p of path) item = firstItem(item, p);
  return item ? nums(item, keyword)?.[0] : undefined;
}

const nonEmpty = (s: string | undefined): string | null => (s && s.trim() !== '' ? s.trim() : null);

/**
 * Facts of a series from one instance's header plus the series' instance rows. Text values go
 * through `str` (the header module's decoding); a value that cannot be decoded throws, and the
 * caller names the series in its reason. Enhanced MR: TR/TE/ETL/TI are also looked up in the
 * shared functional groups; per-frame geometry comes in through `ctx.orientations/positions`.
 */
export function seriesFactsFromHeader(dataset: NaturalDataset, ctx: SeriesInstanceContext): SeriesFacts {
  const shared = firstItem(dataset, 'SharedFunctionalGroupsSequence');
  const iop = nums(dataset, 'ImageOrientationPatient') ?? (shared ? nums(firstItem(shared, 'PlaneOrientationSequence') ?? {}, 'ImageOrientationPatient') : undefined);
  const spacing = nums(dataset, 'PixelSpacing') ?? (shared ? nums(firstItem(shared, 'PixelMeasuresSequence') ?? {}, 'PixelSpacing') : undefined);
  const sopClass = str(dataset, 'SOPClassUID');
  return {
    seriesInstanceUid: ctx.seriesInstanceUid,
    source: 'header',
    modality: nonEmpty(str(dataset, 'Modality')),
    seriesDescription: nonEmpty(str(dataset, 'SeriesDescription')),
    protocolName: nonEmpty(str(dataset, 'ProtocolName')),
    studyDescription: nonEmpty(str(dataset, 'StudyDescription')),
    requestedProcedureDescription: nonEmpty(str(dataset, 'RequestedProcedureDescription') ?? str(firstItem(dataset, 'RequestAttributesSequence') ?? {}, 'RequestedProcedureDescription')),
    bodyPartExamined: nonEmpty(str(dataset, 'BodyPartExamined')),
    seriesNumber: nums(dataset, 'SeriesNumber')?.[0] ?? null,
    instanceCount: ctx.instanceCount,
    sopClassUids: ctx.sopClassUids && ctx.sopClassUids.length > 0 ? ctx.sopClassUids : sopClass ? [sopClass] : null,
    imageType: strings(dataset, 'ImageType') ?? null,
    contrastBolusAgent: nonEmpty(str(dataset, 'ContrastBolusAgent')),
    imageOrientationPatient: iop ?? null,
    orientations: ctx.orientations && ctx.orientations.length > 0 ? ctx.orientations : iop ? [iop] : null,
    positions: ctx.positions ?? null,
    rows: nums(dataset, 'Rows')?.[0] ?? null,
    columns: nums(dataset, 'Columns')?.[0] ?? null,
    pixelSpacing: spacing ?? null,
    frameOfReferenceUid: nonEmpty(str(dataset, 'FrameOfReferenceUID')),
    repetitionTime: num(dataset, 'RepetitionTime', 'MRTimingAndRelatedParametersSequence') ?? null,
    echoTime: nums(dataset, 'EchoTime')?.[0] ?? num(dataset, 'EffectiveEchoTime', 'MREchoSequence') ?? null,
    inversionTime: nums(dataset, 'InversionTime')?.[0] ?? num(dataset, 'InversionTimes', 'MRModifierSequence') ?? null,
    echoTrainLength: num(dataset, 'EchoTrainLength', 'MRTimingAndRelatedParametersSequence') ?? null,
    magneticFieldStrength: nums(dataset, 'MagneticFieldStrength')?.[0] ?? null,
    scanningSequence: strings(dataset, 'ScanningSequence') ?? null,
    sequenceVariant: strings(dataset, 'SequenceVariant') ?? null,
  };
}

/** A series as the database holds it (the SCP's Series and Instance rows). */
export interface SeriesRecord {
  seriesInstanceUid: string;
  modality?: string | null;
  seriesDescription?: string | null;
  bodyPartExamined?: string | null;
  seriesNumber?: number | null;
  instances: ReadonlyArray<{
    sopClassUid?: string | null;
    imagePositionPatient?: readonly number[] | null;
    imageOrientationPatient?: readonly number[] | null;
    /**
     * Per-frame geometry of a multi-frame (Enhanced MR) instance, as ingest stored it
     * (Instance.frames): each frame is one slice for routing.
     */
    frames?: unknown;
  }>;
}

interface SliceGeometry {
  imagePositionPatient?: readonly number[] | null;
  imageOrientationPatient?: readonly number[] | null;
}

/** The slices of one instance: its frames when it has per-frame geometry, else itself. */
function slicesOf(instance: SeriesRecord['instances'][number]): SliceGeometry[] {
  const f = instance.frames;
  if (Array.isArray(f) && f.length > 0 && f.every((x) => x !== null && typeof x === 'object')) return f as SliceGeometry[];
  return [instance];
}

/** The instance-level context of a series from its database rows. */
export function instanceContextOf(series: SeriesRecord): SeriesInstanceContext {
  const slices = series.instances.flatMap(slicesOf);
  return {
    seriesInstanceUid: series.seriesInstanceUid,
    instanceCount: series.instances.length,
    sopClassUids: [...new Set(series.instances.map((i) => i.sopClassUid).filter((x): x is string => Boolean(x)))],
    orientations: slices.map((i) => i.imageOrientationPatient ?? []).filter((o) => o.length === 6),
    positions: slices.map((i) => i.imagePositionPatient ?? []).filter((p) => p.length === 3),
  };
}

/**
 * Facts from database rows alone (no file read): names, SOP classes and geometry, no TR/TE or
 * ImageType. Enough to tell whether the three roles are plausibly present (early settling).
 */
export function seriesFactsFromRecords(series: SeriesRecord): SeriesFacts {
  const ctx = instanceContextOf(series);
  return {
    seriesInstanceUid: series.seriesInstanceUid,
    source: 'database',
    modality: series.modality ?? null,
    seriesDescription: series.seriesDescription ?? null,
    bodyPartExamined: series.bodyPartExamined ?? null,
    seriesNumber: series.seriesNumber ?? null,
    instanceCount: ctx.instanceCount,
    sopClassUids: ctx.sopClassUids ?? null,
    imageOrientationPatient: ctx.orientations?.[0] ?? null,
    orientations: ctx.orientations ?? null,
    positions: ctx.positions ?? null,
  };
}
