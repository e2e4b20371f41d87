/**
 * ONNX Runtime session management.
 *
 * Why one session with a serialised queue and not a pool of N sessions: onnxruntime-node's
 * `session.run()` executes synchronously on the JavaScript thread (the binding defers it with
 * `setImmediate` but does not run it on a libuv worker), so N sessions in one process cannot
 * overlap — they only multiply memory (one copy of the weights and arena each). Parallelism comes
 * from ORT's intra-op thread pool inside one run instead; bench/model measures both layouts (see
 * the README for the figures). Serialising explicitly also keeps the latency of one batch
 * predictable and bounds peak memory to one batch in flight.
 *
 * CUDA: `provider: 'cuda'` asks for `['cuda', 'cpu']`. When the CUDA execution provider's shared
 * libraries are missing (always on the CPU-only hosts this is developed on), ORT refuses to create
 * the session at all rather than falling back, so we retry with CPU only, log a warning and
 * report `activeProvider: 'cpu'` — the result records which provider actually ran.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { createLogger } from '@ldh/config';
import { InferenceError, ModelLoadError } from './errors.js';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface SessionOptions {
  /** Requested execution provider; `cuda` falls back to `cpu` when CUDA is unavailable. */
  provider?: ExecutionProvider;
  /** ORT intra-op threads for one run; default: the machine's available parallelism. */
  intraOpThreads?: number;
  /** Where the provider choice and fallback are logged; default: `createLogger('model')`. */
  logger?: SessionLogger;
}

/** The slice of a pino logger this module uses (so tests can record what was logged). */
export interface SessionLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** The input/output names and declared shapes ORT read from the ONNX graph. */
export interface SessionSignature {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** Declared shape per input name; symbolic dimensions are strings (e.g. 'N'). */
  inputShapes: Readonly<Record<string, ReadonlyArray<number | string>>>;
  outputShapes: Readonly<Record<string, ReadonlyArray<number | string>>>;
}

function shapesOf(metadata: readonly ort.InferenceSession.ValueMetadata[]): Record<string, Array<number | string>> {
  const out: Record<string, Array<number | string>> = {};
  for (const m of metadata) out[m.name] = m.isTensor ? [...m.shape] : [];
  return out;
}

async function createOrtSession(
  onnxPath: string,
  providers: ExecutionProvider[],
  intraOpThreads: number,
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnxPath, {
    executionProviders: providers,
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // ORT's own logging goes to stderr unstructured; we log the outcome ourselves.
    logSeverityLevel: 3,
  });
}

/**
 * One ONNX Runtime session whose runs are serialised through a FIFO queue. Create it with
 * {@link createModelSession}; it reports the provider that is actually active.
 */
export class ModelSession {
  readonly onnxPath: string;
  readonly requestedProvider: ExecutionProvider;
  readonly activeProvider: ExecutionProvider;
  readonly intraOpThreads: number;
  readonly signature: SessionSignature;
  readonly #session: ort.InferenceSession;
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #disposed = false;

  constructor(args: {
    onnxPath: string;
    session: ort.InferenceSession;
    requestedProvider: ExecutionProvider;
    activeProvider: ExecutionProvider;
    intraOpThreads: number;
  }) {
    this.onnxPath = args.onnxPath;
    this.#session = args.session;
    this.requestedProvider = args.requestedProvider;
    this.activeProvider = args.activeProvider;
    this.intraOpThreads = args.intraOpThreads;
    this.signature = {
      inputNames: [...args.session.inputNames],
      outputNames: [...args.session.outputNames],
      inputShapes: shapesOf(args.session.inputMetadata),
      outputShapes: shapesOf(args.session.outputMetadata),
    };
  }

  /** Runs queued or in flight right now (a gauge for metrics and back-pressure). */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Runs one float32 batch `data` of shape `dims` through the graph and returns the named output,
   * after every previously queued run has finished.
   */
  async run(
    inputName: string,
    data: Float32Array,
    dims: readonly number[],
    outputName: string,
  ): Promise<{ data: Float32Array; dims: readonly number[]; ms: number }> {
    if (this.#disposed) throw new InferenceError(`session for ${this.onnxPath} is disposed`);
    this.#pending++;
    const result = this.#tail.then(async () => {
      const started = performance.now();
      let outputs: ort.InferenceSession.ReturnType;
      try {
        outputs = await this.#session.run({ [inputName]: new ort.Tensor('float32', data, dims) }, [outputName]);
      } catch (err) {
        throw new InferenceError(`ONNX Runtime run failed: ${(err as Error).message}`, { cause: err });
      }
      const ms = performance.now() - started;
      const out = outputs[outputName];
      if (!out || out.type !== 'float32' || !(out.data instanceof Float32Array)) {
        throw new InferenceError(`output "${outputName}" missing or not float32`);
      }
      return { data: out.data, dims: out.dims, ms };
    });
    this.#tail = result.then(
      () => (this.#pending--, undefined),
      () => (this.#pending--, undefined),
    );
    return result;
  }

  /** Waits for queued runs, then releases the native session. Idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#tail;
    await this.#session.release();
  }
}

/**
 * Creates the session for `onnxPath` on the requested provider, falling back from CUDA to CPU
 * with a warning (never silently) so a misconfigured GPU host still serves, and says so.
 */
export async function createModelSession(onnxPath: string, options: SessionOptions = {}): Promise<ModelSession> {
  const requestedProvider = options.provider ?? 'cpu';
  const intraOpThreads = options.intraOpThreads ?? Math.max(1, availableParallelism());
  if (!Number.isInteger(intraOpThreads) || intraOpThreads < 1) {
    throw new ModelLoadError(onnxPath, `intraOpThreads must be a positive integer, got ${intraOpThreads}`);
  }
  const log = options.logger ?? createLogger('model');
  const make = (session: ort.InferenceSession, activeProvider: ExecutionProvider): ModelSession =>
    new ModelSession({ onnxPath, session, requestedProvider, activeProvider, intraOpThreads });

  if (requestedProvider === 'cuda') {
    try {
      const session = await createOrtSession(onnxPath, ['cuda', 'cpu'], intraOpThreads);
      log.info({ provider: 'cuda', intraOpThreads }, 'onnx session created');
      return make(session, 'cuda');
    } catch (err) {
      log.warn(
        { requestedProvider: 'cuda', activeProvider: 'cpu', reason: (err as Error).message },
        'CUDA execution provider unavailable; falling back to CPU',
      );
    }
  }
  try {
    const session = await createOrtSession(onnxPath, ['cpu'], intraOpThreads);
    log.info({ provider: 'cpu', requestedProvider, intraOpThreads }, 'onnx session created');
    return make(session, 'cpu');
  } catch (err) {
    throw new ModelLoadError(onnxPath, `cannot create ONNX Runtime session: ${(err as Error).message}`, { cause: err });
  }
}
