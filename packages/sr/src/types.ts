/**
 * Input types of the SR and KOS builders. They carry exactly what the report needs from the
 * source study and the model run, so the writer can build a report without re-reading images.
 */

/** Patient and study attributes copied from the source MR (Type 2 ones are written empty when absent). */
export interface SourceStudyHeader {
  studyInstanceUid: string;
  /**
   * Decoded text. Person names are in their DICOM form with every component group kept:
   * "Alphabetic=Ideographic=Phonetic" (trailing empty groups dropped), see `sourceStudyHeader`.
   */
  patientName?: string;
  patientId?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyDate?: string;
  studyTime?: string;
  accessionNumber?: string;
  referringPhysicianName?: string;
  studyId?: string;
  /**
   * Character set the strings above were decoded from (terms joined by "\\"). Informational:
   * the SR/KOS re-encode the decoded text as UTF-8 and declare `ISO_IR 192` whenever any text is
   * non-ASCII, whatever the source used (lossless for every DICOM repertoire; see README).
   */
  specificCharacterSet?: string;
}

/** The series roles the classifier reads. */
export type ImageRole = 't1_sag' | 't2_sag' | 't2_ax';

/** One source image used by the model, with its per-image probability (0..1). */
export interface SourceImageRef {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  role: ImageRole;
  probability: number;
  frameOfReferenceUid?: string;
  /**
   * 1-based frame number when the image is one frame of a multi-frame instance (Enhanced MR):
   * written as Referenced Frame Number (0008,1160) in every reference to it (PS3.3 C.18.3,
   * Image Reference Macro: required when the reference is to some frames, not all).
   */
  frameNumber?: number;
}

/** Disc levels, cranial to caudal. */
export const DISC_LEVELS = ['L1-L2', 'L2-L3', 'L3-L4', 'L4-L5', 'L5-S1'] as const;
export type DiscLevel = (typeof DISC_LEVELS)[number];

/**
 * Optional per-level result. `sourceSopInstanceUid` (the key image the NUM is INFERRED FROM) and
 * every `sources` entry must be one of the report's images.
 */
export interface LevelResult {
  level: DiscLevel;
  probability: number;
  sourceSopInstanceUid?: string;
  /** With `sourceSopInstanceUid`: which frame of that multi-frame instance (one of the report's images). */
  sourceFrameNumber?: number;
  /** The images this level was scored from (its IMAGE items); default: the key image, else all images. */
  sources?: Array<{ sopInstanceUid: string; frameNumber?: number }>;
  /** The level's threshold (Algorithm Parameters of its group); default: the report's. */
  threshold?: number;
  /** The level's decision; default: probability >= threshold. */
  decision?: Decision;
}

/**
 * The model as a DICOM device. `deviceObserverUid` must change whenever the weights change
 * (sr-content.md sec. 7); `placeholder` marks an untrained/demo model and is written visibly.
 */
export interface AlgorithmIdentity {
  name: string;
  version: string;
  deviceObserverUid: string;
  manufacturer: string;
  modelName: string;
  placeholder: boolean;
  softwareVersion: string;
}

export type Decision = 'ldh' | 'healthy';

export interface MeasurementReportInput {
  study: SourceStudyHeader;
  images: SourceImageRef[];
  /** Aggregated study probability, 0..1. */
  studyProbability: number;
  /** Decision threshold on the probability (recorded as Algorithm Parameters). */
  threshold: number;
  /** Thresholded study decision, as decided by the caller. */
  decision: Decision;
  levels?: LevelResult[];
  algorithm: AlgorithmIdentity;
  /**
   * How per-image probabilities became the study probability (e.g. "mean", "max"); recorded in
   * Algorithm Parameters. Defaults to "unspecified".
   */
  aggregation?: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  /** Defaults to {@link DEFAULT_SR_SERIES_NUMBER}. */
  seriesNumber?: number;
  /** Defaults to 1. */
  instanceNumber?: number;
  contentDateTime: Date;
  /** Tracking Unique Identifier of the study-level finding; derived from the study UID when absent. */
  trackingUid?: string;
}

export interface KeyObjectInput {
  study: SourceStudyHeader;
  images: SourceImageRef[];
  /** Key Object Description shown by viewers, e.g. "AI: suspected LDH at L4-L5". */
  description: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  /** Defaults to {@link DEFAULT_KOS_SERIES_NUMBER}. */
  seriesNumber?: number;
  /** Defaults to 1. */
  instanceNumber?: number;
  contentDateTime: Date;
  algorithm: AlgorithmIdentity;
}

/** What `describeReport` reads back from an SR written by `buildMeasurementReport`. */
export interface ReportDescription {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  /** The study NUM divided by 100 (so rounded to 0.001). */
  studyProbability: number;
  decision: Decision;
  /** Distinct images in the Image Library (each frame of a multi-frame counts once). */
  imageCount: number;
  levels: { level: DiscLevel; probability: number; decision: Decision }[];
  algorithmName: string;
  algorithmVersion: string;
  /** True when Algorithm Parameters say "PLACEHOLDER MODEL". */
  placeholder: boolean;
}

/** Series numbers used when the caller gives none: high, so derived series sort after acquisitions. */
export const DEFAULT_SR_SERIES_NUMBER = 9901;
export const DEFAULT_KOS_SERIES_NUMBER = 9902;
