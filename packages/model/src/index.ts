// Model runtime (model-runtime engineer): card verification, ONNX session, batching, aggregation.
export { ModelError, ModelCardError, ModelLoadError, ModelInputError, InferenceError } from './errors.js';
export {
  modelCardSchema,
  aggregationSchema,
  parseModelCard,
  loadModelCard,
  sha256File,
  type ModelCard,
  type Aggregation,
  type LoadedModelCard,
} from './model-card.js';
export {
  createModelSession,
  DEFAULT_ALLOW_SPINNING,
  MAX_DEFAULT_POOL_SIZE,
  SessionPool,
  type RunResult,
  type ExecutionProvider,
  type SessionOptions,
  type SessionSignature,
  type SessionLogger,
} from './session-pool.js';
export { loadModel, type LoadedModel, type LoadModelOptions } from './load-model.js';
export {
  classifyImages,
  softmax2,
  validateTensors,
  DEFAULT_BATCH_SIZE,
  type ClassifyImagesOptions,
  type ClassifyImagesResult,
  type BatchTiming,
} from './infer.js';
export { aggregateProbabilities, scoreStudy, type Decision, type StudyScore } from './aggregate.js';
export {
  classifyStudy,
  SERIES_ROLES,
  type SeriesRole,
  type StudyImage,
  type ImageScore,
  type StudyClassification,
} from './classify-study.js';
// Input contract ldh-input-v2, and v1 for older cards (training engineer): pixel pipeline, DICOM
// decoding, slice selection.
export {
  INPUT_CONTRACT_ID,
  SUPPORTED_INPUT_CONTRACTS,
  RESIZE_METHOD,
  UNCOMPRESSED_TRANSFER_SYNTAXES,
  assertSupportedContract,
  preprocessImage,
  preprocessImageSync,
  readDicomImage,
  toUnitImage,
  roiBox,
  normaliseToTensor,
  triangleWeights,
  resizeSquare,
  percentileLinear,
  type InputContract,
  type RegionOfInterest,
  type RoiBox,
  type PixelInput,
  type DicomImage,
  type ReadDicomImageOptions,
  type ResampleWeights,
} from './preprocess.js';
export {
  selectSlices,
  selectSeries,
  selectFrames,
  selectSeriesFrames,
  sortInstances,
  slicePosition,
  centralIndices,
  spreadIndices,
  type SliceRole,
  type SliceInstance,
  type SeriesForSelection,
  type SelectedSlices,
  type SelectedFrames,
  type ChosenSlice,
  type SliceFrame,
} from './slice-selection.js';
// Per-disc-level scores (axial images grouped by level from geometry, @ldh/dicom).
export { scoreLevels, levelRule, mostSuspiciousLevel, DISC_LEVELS, type DiscLevel, type LevelScore, type PlacedImageScore } from './per-level.js';
