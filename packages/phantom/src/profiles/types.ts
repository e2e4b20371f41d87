import type { SeriesRole, TransferSyntaxName } from '../types.js';

/** The vendor profiles of the phantom (`ldh phantom --profile`). `generic` is the original output. */
export const PROFILE_NAMES = [
  'generic',
  'siemens',
  'siemens-xa',
  'ge',
  'philips',
  'canon',
  'hitachi',
  'hitachi-0.3t',
  'samsung',
  'united-imaging',
] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/**
 * What a series is, whatever its vendor name. The three roles are what the pipeline classifies;
 * every other kind is a distractor that real studies contain and routing must leave out.
 */
export type SeriesKind =
  | 't1_sag'
  | 't2_sag'
  | 't2_ax'
  /** 3-plane localizer (3 sagittal, 3 coronal, 3 axial images in one series). */
  | 'localizer'
  /** Sagittal STIR (inversion recovery, fat suppressed). */
  | 'stir_sag'
  /** Coronal T2. */
  | 't2_cor'
  /** Post-contrast T1 sagittal, acquired after the pre-contrast one. */
  | 't1_sag_post'
  /** The first of a repeated T2 sagittal (same protocol; the repeat has the higher series number). */
  | 't2_sag_first'
  /** 3-image Secondary Capture "3D myelogram" with no SeriesDescription. */
  | 'myelo_sc'
  /** Sagittal multiplanar reformat: ImageType DERIVED\SECONDARY\REFORMATTED, named like a T2 sagittal. */
  | 'mpr';

/** Transfer syntaxes a profile can write (names as in `--transfer-syntax`). */
export type ProfileTransferSyntax = TransferSyntaxName;

/** How a text value is written: Specific Character Set and the encoder behind it. */
/**
 * default: no Specific Character Set (ISO-IR 6); latin1: ISO_IR 100; utf8: ISO_IR 192; gb18030: GB18030;
 * japanese: ISO 2022 IR 13\ISO 2022 IR 87; japanese-ir6: \ISO 2022 IR 87; korean: \ISO 2022 IR 149.
 */
export type CharsetName = 'default' | 'latin1' | 'utf8' | 'gb18030' | 'japanese' | 'japanese-ir6' | 'korean';

/** A person name in up to three component groups (alphabetic, ideographic, phonetic), `^`-separated components. */
export interface PersonNameGroups {
  alphabetic: string;
  ideographic?: string;
  phonetic?: string;
}

/** The acquisition of one kind of series on one vendor's scanner. */
export interface SequenceDef {
  /** SeriesDescription; `null` leaves it out (the myelogram SC). */
  description: string | null;
  protocolName: string;
  sequenceName: string;
  /** ScanningSequence (0018,0020), e.g. ['SE'], ['SE','IR'], ['GR']. */
  scanningSequence: string[];
  /** SequenceVariant (0018,0021), e.g. ['SK','SP','OSP']. */
  sequenceVariant: string[];
  /** ScanOptions (0018,0022), e.g. ['PFP'], ['IR'], ['FS']. */
  scanOptions: string[];
  /** Ranges drawn per study: TR, TE (ms), echo train length. */
  tr: [number, number];
  te: [number, number];
  etl: [number, number];
  /** Inversion time (ms) for IR sequences. */
  ti?: number;
  flipAngle: number;
}

/** One series of a profile's study, in acquisition order (series numbers follow the profile). */
export interface SeriesDef {
  kind: SeriesKind;
  seriesNumber: number;
  seq: SequenceDef;
}

export interface VendorProfile {
  name: ProfileName;
  manufacturer: string;
  modelName: string;
  softwareVersions: string;
  fieldStrength: number;
  institutionName: string;
  stationName: string;
  studyDescription: string;
  /** BodyPartExamined; '' writes an empty value. */
  bodyPart: string;
  /** ImageType of acquired (primary) images; the profile that labels everything DERIVED\SECONDARY says so here. */
  imageType: string[];
  /** ImageType of the localizer images. */
  localizerImageType: string[];
  charset: CharsetName;
  patientName: PersonNameGroups;
  transferSyntax: ProfileTransferSyntax;
  /** Enhanced MR Image Storage (one multi-frame instance per series) instead of MR Image Storage. */
  enhanced: boolean;
  /** Matrix of the primary series when the caller does not set one (low-field scanners acquire coarser). */
  defaultMatrix?: number;
  series: SeriesDef[];
}

/** The expected routing decision for one series: the role it should get, or null, and why. */
export interface ExpectedRouting {
  role: SeriesRole | null;
  why: string;
}
