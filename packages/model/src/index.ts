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
  ModelSession,
  type ExecutionProvider,
  type SessionOptions,
  type SessionSignature,
  type SessionLogger,
} from './session-pool.js';
export { loadModel, type LoadedModel } from './load-model.js';
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
