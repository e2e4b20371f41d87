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
} from './types.js';
export { generateStudy } from './study.js';
export { parseLevelsSpec, studyLabel, isHerniation, formatLevelCell, DISC_LEVELS, HERNIATION_GRADES, HERNIATION_POSITIONS } from './levels.js';
export { PhantomError, PhantomSpecError, PhantomOptionError } from './errors.js';
export {
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  RLE_LOSSLESS,
  MR_IMAGE_STORAGE,
  SUPPORTED_TRANSFER_SYNTAXES,
  transferSyntaxUidOf,
} from './transfer-syntax.js';
export { writePhantomDataset, imageTruthRows, LABELS_CSV_HEADER, IMAGES_CSV_HEADER, caseDirName } from './dataset.js';
