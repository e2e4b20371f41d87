/**
 * The one call the worker makes per study: preprocessed images in, a traceable result out
 * (model name/version/sha256, placeholder flag, per-image scores for the SR, the study decision,
 * timings and the provider that actually ran). Takes tensors, not DICOM, so it is testable and
 * independent of decoding; preprocess.ts produces the tensors.
 */
import { performance } from 'node:perf_hooks';
import { scoreStudy, type StudyScore } from './aggregate.js';
import { ModelInputError } from './errors.js';
import { classifyImages, type ClassifyImagesOptions } from './infer.js';
import type { LoadedModel } from './load-model.js';
import type { Aggregation } from './model-card.js';
import type { ExecutionProvider } from './session-pool.js';

/** Which series an image was selected from (the input contract's series roles). */
export type SeriesRole = 't1_sag' | 't2_sag' | 't2_ax';
export const SERIES_ROLES: readonly SeriesRole[] = ['t1_sag', 't2_sag', 't2_ax'];

export interface StudyImage {
  sopInstanceUid: string;
  /** 1-based frame number when the image is one frame of a multi-frame instance (Enhanced MR). */
  frameNumber?: number;
  seriesInstanceUid: string;
  sopClassUid: string;
  role: SeriesRole;
  /** Preprocessed tensor, channels×S×S float32, per the card's input contract. */
  tensor: Float32Array;
}

export interface ImageScore {
  sopInstanceUid: string;
  /** As in {@link StudyImage}: the SR references this frame (Referenced Frame Number). */
  frameNumber?: number;
  seriesInstanceUid: string;
  sopClassUid: string;
  role: SeriesRole;
  probability: number;
}

export interface StudyClassification {
  modelName: string;
  modelVersion: string;
  modelSha256: string;
  placeholder: boolean;
  aggregation: Aggregation['method'];
  perImage: ImageScore[];
  study: StudyScore;
  timings: { totalMs: number; perImageMs: number };
  provider: ExecutionProvider;
}

function validateImages(images: readonly StudyImage[]): void {
  if (images.length === 0) throw new ModelInputError('study has no images to classify');
  const seen = new Set<string>();
  images.forEach((img, i) => {
    if (typeof img.sopInstanceUid !== 'string' || img.sopInstanceUid.length === 0) {
      throw new ModelInputError(`image ${i}: missing sopInstanceUid`, i);
    }
    if (img.frameNumber !== undefined && !(Number.isInteger(img.frameNumber) && img.frameNumber >= 1)) {
      throw new ModelInputError(`image ${i} (${img.sopInstanceUid}): frameNumber ${String(img.frameNumber)} is not a 1-based frame number`, i);
    }
    // Frames of one multi-frame instance are distinct images; the same image twice is not.
    const key = img.frameNumber === undefined ? img.sopInstanceUid : `${img.sopInstanceUid}#${img.frameNumber}`;
    if (seen.has(key)) {
      // The same image twice would count twice in the study probability.
      throw new ModelInputError(`image ${i}: duplicate sopInstanceUid ${img.sopInstanceUid}${img.frameNumber === undefined ? '' : ` frame ${img.frameNumber}`}`, i);
    }
    seen.add(key);
    if (!SERIES_ROLES.includes(img.role)) throw new ModelInputError(`image ${i} (${img.sopInstanceUid}): unknown role "${String(img.role)}"`, i);
  });
}

/**
 * Classifies a study's selected images and aggregates them per the model card. Bad input
 * (no images, duplicate UIDs, unknown role, wrong tensor size, NaN) throws ModelInputError.
 */
export async function classifyStudy(
  images: readonly StudyImage[],
  model: LoadedModel,
  options: ClassifyImagesOptions = {},
): Promise<StudyClassification> {
  const started = performance.now();
  validateImages(images);
  let result;
  try {
    result = await classifyImages(
      model,
      images.map((img) => img.tensor),
      options,
    );
  } catch (err) {
    // Name the image by UID, not just its index, so the audit trail points at the instance.
    if (err instanceof ModelInputError && err.index !== undefined) {
      const uid = images[err.index]?.sopInstanceUid ?? '?';
      throw new ModelInputError(`${err.message} (sopInstanceUid ${uid})`, err.index, { cause: err });
    }
    throw err;
  }
  const perImage = images.map((img, i) => ({
    sopInstanceUid: img.sopInstanceUid,
    ...(img.frameNumber !== undefined ? { frameNumber: img.frameNumber } : {}),
    seriesInstanceUid: img.seriesInstanceUid,
    sopClassUid: img.sopClassUid,
    role: img.role,
    probability: result.probabilities[i] ?? NaN,
  }));
  const study = scoreStudy(result.probabilities, model.card.aggregation, model.card.threshold);
  return {
    modelName: model.card.name,
    modelVersion: model.card.version,
    modelSha256: model.card.sha256,
    placeholder: model.placeholder,
    aggregation: model.card.aggregation.method,
    perImage,
    study,
    timings: { totalMs: performance.now() - started, perImageMs: result.timings.perImageMs },
    provider: model.provider,
  };
}
