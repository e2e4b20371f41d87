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
  role: SeriesRole;
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
  /** Centre of each disc in patient coordinates (LPS, mm): lets a trainer crop around a level. */
  discCentres: Record<DiscLevel, [number, number, number]>;
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
  /** Transfer syntax UID of the files: explicit VR LE (default), implicit VR LE, or RLE Lossless. */
  transferSyntaxUid?: string;
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
  transferSyntax?: TransferSyntaxName;
  /** Matrix and sagittal slice count, passed through to generateStudy. */
  matrix?: number;
  sagittalSlices?: number;
  onProgress?: (done: number, total: number) => void;
}

export type TransferSyntaxName = 'explicit-le' | 'implicit-le' | 'rle';

export interface WrittenStudy {
  studyInstanceUid: string;
  patientId: string;
  label: StudyLabel;
  dir: string;
  instanceCount: number;
}
