/**
 * Batched per-image inference. Images of a study are stacked into batches of `batchSize` because
 * a batch amortises ORT's per-run overhead (bench/model measures the gain), and the batches are
 * spread over the session pool; results are in input order and do not depend on the batching.
 */
import { performance } from 'node:perf_hooks';
import { InferenceError, ModelInputError } from './errors.js';
import type { LoadedModel } from './load-model.js';
import type { RunResult } from './session-pool.js';

/** Default images per ORT run; see packages/model/README.md for the measurement behind it. */
export const DEFAULT_BATCH_SIZE = 8;

export interface ClassifyImagesOptions {
  /** Images per ORT run (≥ 1). */
  batchSize?: number;
}

export interface BatchTiming {
  images: number;
  ms: number;
}

export interface ClassifyImagesResult {
  /** Per image, softmax probability of class "ldh", in input order. */
  probabilities: number[];
  /** Per image, raw logits in the card's class order. */
  logits: Array<[number, number]>;
  timings: {
    batches: BatchTiming[];
    /** Wall time of the whole call, queueing behind other callers included. */
    totalMs: number;
    /** Sum of batch run times / images: the model's own compute per image (batches may overlap). */
    perImageMs: number;
  };
}

/** Numerically stable two-class softmax; returns the probability of class `index`. */
export function softmax2(logits: readonly [number, number], index: 0 | 1): number {
  const m = Math.max(logits[0], logits[1]);
  const e0 = Math.exp(logits[0] - m);
  const e1 = Math.exp(logits[1] - m);
  return (index === 0 ? e0 : e1) / (e0 + e1);
}

/**
 * Throws ModelInputError unless every tensor has exactly `length` finite floats: a wrong size
 * would otherwise silently shift every later image in the batch.
 */
export function validateTensors(tensors: readonly Float32Array[], length: number): void {
  tensors.forEach((t, i) => {
    if (!(t instanceof Float32Array)) throw new ModelInputError(`image ${i}: tensor is not a Float32Array`, i);
    if (t.length !== length) {
      throw new ModelInputError(`image ${i}: tensor has ${t.length} values, model expects ${length}`, i);
    }
    for (let j = 0; j < t.length; j++) {
      if (!Number.isFinite(t[j])) throw new ModelInputError(`image ${i}: non-finite value at offset ${j}`, i);
    }
  });
}

/**
 * Classifies preprocessed image tensors (each channels×S×S, per the card) in batches and returns
 * per-image "ldh" probabilities with timings.
 */
export async function classifyImages(
  model: LoadedModel,
  tensors: readonly Float32Array[],
  options: ClassifyImagesOptions = {},
): Promise<ClassifyImagesResult> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ModelInputError(`batchSize must be a positive integer, got ${batchSize}`);
  if (tensors.length === 0) throw new ModelInputError('no images to classify');
  validateTensors(tensors, model.imageLength);

  const { channels, size, name: inputName } = model.card.input;
  const outputName = model.card.output.name;
  const started = performance.now();
  const probabilities: number[] = [];
  const logits: Array<[number, number]> = [];
  const batches: BatchTiming[] = [];

  // All batches are queued at once so a pool of sessions works on them in parallel; results are
  // placed by index, so the order (and value) never depends on which session ran which batch.
  const runs: Array<Promise<RunResult>> = [];
  for (let start = 0; start < tensors.length; start += batchSize) {
    const chunk = tensors.slice(start, start + batchSize);
    const data = new Float32Array(chunk.length * model.imageLength);
    chunk.forEach((t, i) => data.set(t, i * model.imageLength));
    runs.push(model.session.run(inputName, data, [chunk.length, channels, size, size], outputName));
  }
  const outs = await Promise.all(runs);

  outs.forEach((out, b) => {
    const start = b * batchSize;
    const count = Math.min(batchSize, tensors.length - start);
    if (out.dims.length !== 2 || out.dims[0] !== count || out.dims[1] !== 2) {
      throw new InferenceError(`output "${outputName}" has shape [${out.dims.join(',')}], expected [${count},2]`);
    }
    for (let i = 0; i < count; i++) {
      const pair: [number, number] = [out.data[2 * i] ?? NaN, out.data[2 * i + 1] ?? NaN];
      const p = softmax2(pair, model.ldhIndex);
      if (!Number.isFinite(p)) throw new InferenceError(`image ${start + i}: model produced non-finite logits`);
      logits.push(pair);
      probabilities.push(p);
    }
    batches.push({ images: count, ms: out.ms });
  });

  const runMs = batches.reduce((s, b) => s + b.ms, 0);
  return {
    probabilities,
    logits,
    timings: { batches, totalMs: performance.now() - started, perImageMs: runMs / tensors.length },
  };
}
