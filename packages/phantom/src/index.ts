export type {
  DiscLevel,
  HerniationGrade,
  HerniationPosition,
  LevelTruth,
  SeriesRole,
  PhantomInstance,
  PhantomStudy,
  PhantomStudyOptions,
  StudyLabel,
  Difficulty,
  TransferSyntaxName,
  WriteDatasetOptions,
  WrittenStudy,
  PhantomSeries,
} from './types.js';
export { PROFILE_NAMES, vendorProfile, expectedRouting } from './profiles/index.js';
export type { ProfileName, SeriesKind, VendorProfile, ExpectedRouting, CharsetName, PersonNameGroups } from './profiles/index.js';
export { loadPhantomCodecs } from './codecs.js';
export { textCodec, personNameText } from './charset.js';
export { generateStudy } from './study.js';
export { parseLevelsSpec, studyLabel, isHerniation, formatLevelCell, DISC_LEVELS, HERNIATION_GRADES, HERNIATION_POSITIONS } from './levels.js';
export { PhantomError, PhantomSpecError, PhantomOptionError } from './errors.js';
export {
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  RLE_LOSSLESS,
  JPEG_LS_LOSSLESS,
  JPEG_LS_NEAR_LOSSLESS,
  JPEG_2000_LOSSLESS,
  JPEG_2000,
  MR_IMAGE_STORAGE,
  ENHANCED_MR_IMAGE_STORAGE,
  SECONDARY_CAPTURE_IMAGE_STORAGE,
  TRANSFER_SYNTAX_NAMES,
  SUPPORTED_TRANSFER_SYNTAXES,
  transferSyntaxUidOf,
} from './transfer-syntax.js';
export { writePhantomDataset, imageTruthRows, routingTruth, LABELS_CSV_HEADER, IMAGES_CSV_HEADER, ROUTING_TRUTH_FILE, caseDirName } from './dataset.js';
export type { RoutingTruth, RoutingTruthStudy } from './dataset.js';
