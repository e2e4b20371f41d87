import type { ProfileName, SeriesKind } from './profiles/types.js';

/** The five lumbar disc levels the phantom models, cranial to caudal. */
export type DiscLevel = 'L1-L2' | 'L2-L3' | 'L3-L4' | 'L4-L5' | 'L5-S1';
/** Herniation grade (MSU/Fardon nomenclature, simplified): a bulge is not a herniation. */
export type HerniationGrade = 'none' | 'bulge' | 'protrusion' | 'extrusion';
/** Where the focal herniation sits in the axial plane (patient left/right). */
export type HerniationPosition = 'central' | 'paracentral-left' | 'paracentral-right';

/** Ground truth of one disc level. `sizeMm` is the posterior extension beyond the disc margin. */
export interface LevelTruth {
  level: DiscLevel;
  grade: HerniationGrade;
  position: HerniationPosition;
  sizeMm: number;
  /** 0 = healthy hydrated disc, 1 = collapsed dark disc. */
  degeneration: number;
}

export type SeriesRole = 't1_sag' | 't2_sag' | 't2_ax';

/** One generated instance: a complete Part-10 file in memory. */
export interface PhantomInstance {
  /** The role routing should give its series, or null for a distractor series (localizer, STIR, MPR, ...). */
  role: SeriesRole | null;
  /** What the series is (a role, or the kind of distractor). */
  kind: SeriesKind;
  /** Folder of the series in a written dataset: the role for the generic profile, `<seriesNumber>-<kind>` otherwise. */
  seriesDir: string;
  /** Frames in the instance (Enhanced MR: one per slice); 1 for single-frame images. */
  frames: number;
  /** Enhanced MR axial: the disc level of each frame's stack (frame i+1 ↔ index i). */
  frameLevels?: Array<DiscLevel | undefined>;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  instanceNumber: number;
  /** The disc level an axial slice belongs to (its stack); absent for sagittal slices, which cross every level. */
  level?: DiscLevel;
  bytes: Uint8Array;
}

export type StudyLabel = 'ldh' | 'healthy';

export interface PhantomStudy {
  studyInstanceUid: string;
  patientId: string;
  patientName: string;
  label: StudyLabel;
  levels: LevelTruth[];
  instances: PhantomInstance[];
  /** The vendor profile that shaped the headers ('generic' is the original output). */
  profile: ProfileName;
  /** Every series with the routing a correct router gives it (routing-truth.json). */
  series: PhantomSeries[];
  /** Centre of each disc in patient coordinates (LPS, mm): lets a trainer crop around a level. */
  discCentres: Record<DiscLevel, [number, number, number]>;
}

/** One series of a study and the expected routing decision for it. */
export interface PhantomSeries {
  seriesInstanceUid: string;
  seriesNumber: number;
  /** SeriesDescription as written ('' when the series has none). */
  seriesDescription: string;
  kind: SeriesKind;
  sopClassUid: string;
  instanceCount: number;
  frameCount: number;
  expectedRole: SeriesRole | null;
  why: string;
}

export type Difficulty = 'easy' | 'hard';

export interface PhantomStudyOptions {
  /** Seed of everything random in the study (anatomy, noise, identity). */
  seed: number;
  /** Case number used for the synthetic identity (PH0001, PHANTOM^CASE0001); default 1. */
  caseIndex?: number;
  /** Fixed truth per level: a grade, or a partial LevelTruth; unnamed levels are drawn from the seed. */
  levels?: Partial<Record<DiscLevel, Partial<LevelTruth> | HerniationGrade>>;
  /** easy: healthy vs clear protrusions/extrusions; hard: small bulges vs small protrusions, more noise. */
  difficulty?: Difficulty;
  /** Transfer syntax UID of the files; default: the profile's (explicit VR LE for generic). */
  transferSyntaxUid?: string;
  /** Vendor profile (naming, ImageType, charset, Enhanced MR, distractor series); default 'generic'. */
  profile?: ProfileName;
  /** Number of sagittal slices (11–15); default drawn from the seed. */
  sagittalSlices?: number;
  /** Rows = columns of the sagittal images (64–512); default 320. Axial images use the same matrix. */
  matrix?: number;
  /** Axial slices per disc stack (3–5); default drawn from the seed. */
  axialSlicesPerLevel?: number;
  /** When true (default), draw a random herniation for an unnamed level only if the study should be positive. */
  positive?: boolean;
}

export interface WriteDatasetOptions {
  outDir: string;
  count: number;
  seed: number;
  /** A levels spec ("L4-L5:protrusion,L5-S1:bulge") applied to every study. */
  levels?: string;
  difficulty?: Difficulty;
  /** Fraction of "ldh" studies when `levels` is not given; default 0.5. */
  ldhFraction?: number;
  /** Default: the profile's transfer syntax. */
  transferSyntax?: TransferSyntaxName;
  /** Vendor profile of every study; default 'generic'. */
  profile?: ProfileName;
  /** Matrix and sagittal slice count, passed through to generateStudy. */
  matrix?: number;
  sagittalSlices?: number;
  onProgress?: (done: number, total: number) => void;
}

export type TransferSyntaxName = 'explicit-le' | 'implicit-le' | 'rle' | 'jpeg-ls' | 'jpeg-ls-near' | 'j2k' | 'j2k-lossy';

export interface WrittenStudy {
  studyInstanceUid: string;
  patientId: string;
  label: StudyLabel;
  dir: string;
  instanceCount: number;
}
