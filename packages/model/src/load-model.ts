/**
 * Loading a model = verified card + ONNX session whose graph matches the card's I/O contract.
 * Everything is checked once at start-up so that a wrong file fails the worker's boot, not the
 * first study.
 */
import { loadModelCard, type ModelCard } from './model-card.js';
import { ModelCardError, ModelLoadError } from './errors.js';
import { classifyImages } from './infer.js';
import { createModelSession, type ExecutionProvider, type SessionOptions, type SessionPool } from './session-pool.js';

/** A model ready to classify: its card, its session and what ran it. */
export interface LoadedModel {
  card: ModelCard;
  cardPath: string;
  onnxPath: string;
  session: SessionPool;
  /** True for the untrained placeholder model: every result built from it must say so. */
  placeholder: boolean;
  /** The execution provider actually in use (may be `cpu` when `cuda` was requested). */
  provider: ExecutionProvider;
  /** Index of the "ldh" class in the output logits, from `card.output.classOrder`. */
  ldhIndex: 0 | 1;
  /** Floats per image: channels × size × size. */
  imageLength: number;
  dispose(): Promise<void>;
}

function checkSignature(card: ModelCard, session: SessionPool, onnxPath: string): void {
  const { inputNames, outputNames, inputShapes, outputShapes } = session.signature;
  if (!inputNames.includes(card.input.name)) {
    throw new ModelCardError(onnxPath, `graph has no input "${card.input.name}" (inputs: ${inputNames.join(', ')})`, 'input.name');
  }
  if (!outputNames.includes(card.output.name)) {
    throw new ModelCardError(onnxPath, `graph has no output "${card.output.name}" (outputs: ${outputNames.join(', ')})`, 'output.name');
  }
  const expected: Array<number | null> = [null, card.input.channels, card.input.size, card.input.size];
  const inShape = inputShapes[card.input.name] ?? [];
  const inOk = inShape.length === 4 && expected.every((e, i) => e === null || typeof inShape[i] !== 'number' || inShape[i] === e);
  if (!inOk) {
    throw new ModelCardError(
      onnxPath,
      `graph input "${card.input.name}" has shape [${inShape.join(',')}], card says [N,${card.input.channels},${card.input.size},${card.input.size}]`,
      'input.size',
    );
  }
  const outShape = outputShapes[card.output.name] ?? [];
  const outOk = outShape.length === 2 && (typeof outShape[1] !== 'number' || outShape[1] === card.output.classOrder.length);
  if (!outOk) {
    throw new ModelCardError(onnxPath, `graph output "${card.output.name}" has shape [${outShape.join(',')}], expected [N,2]`, 'output.classOrder');
  }
}

/** Options of {@link loadModel}: the session pool's, plus the start-up warm-up. */
export interface LoadModelOptions extends SessionOptions {
  /**
   * Run one all-zero image through every session before returning (default true): the first run
   * allocates ORT's arena and picks kernels, so without it the first study pays for that — and an
   * operator that only fails at run time fails the start-up instead.
   */
  warmUp?: boolean;
}

/**
 * Loads the card at `cardPath`, verifies the ONNX file's sha256, creates its session pool (CUDA
 * with CPU fallback when asked), checks the graph's input/output names and shapes against the card
 * and warms every session up.
 */
export async function loadModel(cardPath: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const { card, onnxPath } = await loadModelCard(cardPath);
  const { warmUp = true, ...sessionOptions } = options;
  const session = await createModelSession(onnxPath, sessionOptions);
  const model: LoadedModel = {
    card,
    cardPath,
    onnxPath,
    session,
    placeholder: card.placeholder,
    provider: session.activeProvider,
    ldhIndex: card.output.classOrder.indexOf('ldh') === 0 ? 0 : 1,
    imageLength: card.input.channels * card.input.size * card.input.size,
    dispose: () => session.dispose(),
  };
  try {
    checkSignature(card, session, onnxPath);
    if (warmUp) {
      // One single-image batch per session: the pool hands each idle session one of them.
      const zeros = Array.from({ length: session.poolSize }, () => new Float32Array(model.imageLength));
      try {
        await classifyImages(model, zeros, { batchSize: 1 });
      } catch (err) {
        throw new ModelLoadError(onnxPath, `warm-up run failed: ${(err as Error).message}`, { cause: err });
      }
    }
  } catch (err) {
    await session.dispose();
    throw err;
  }
  return model;
}
