/**
 * ONNX Runtime sessions, each in its own worker thread, behind one FIFO queue.
 *
 * Why worker threads: onnxruntime-node's `session.run()` executes synchronously on the calling
 * JavaScript thread (the binding only defers it with `setImmediate`). On the main thread a
 * ResNeXt-50 batch of 8 blocks the event loop for ~0.2–1.3 s (BullMQ lock renewal, health and
 * metrics endpoints all stall), and N sessions there cannot overlap at all — they run one after
 * another. In worker threads they do overlap and the event loop stays free.
 *
 * Why N one-thread sessions (default) rather than one session with N intra-op threads: measured
 * with bench/model on the 2-core hosts, ORT's intra-op pool synchronises at every operator and,
 * with its default spin-waiting, collapses as soon as another process wants a core (the SCP,
 * Postgres and writer share the host): 2 one-thread sessions were ~1.3–2× faster under load and on
 * par when idle. See packages/model/README.md for the figures. Both knobs stay configurable.
 *
 * CUDA: `provider: 'cuda'` asks for `['cuda', 'cpu']`. When the CUDA execution provider's shared
 * libraries are missing (always on the CPU-only hosts this is developed on), ORT refuses to create
 * the session instead of falling back, so the worker retries on CPU; the pool logs a warning and
 * reports `activeProvider: 'cpu'` — every result records the provider that actually ran.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createLogger } from '@ldh/config';
import { InferenceError, ModelLoadError } from './errors.js';

export type ExecutionProvider = 'cpu' | 'cuda';

/** Default for {@link SessionOptions.allowSpinning}: off, see the module comment. */
export const DEFAULT_ALLOW_SPINNING = false;

/** Most sessions a default CPU pool gets, whatever the core count: each holds a copy of the weights. */
export const MAX_DEFAULT_POOL_SIZE = 4;

export interface SessionOptions {
  /** Requested execution provider; `cuda` falls back to `cpu` when CUDA is unavailable. */
  provider?: ExecutionProvider;
  /**
   * Sessions (worker threads) in the pool. Default: CPU — cores / intraOpThreads (so the cores
   * when intraOpThreads is not set), at most {@link MAX_DEFAULT_POOL_SIZE}; CUDA — 1.
   */
  poolSize?: number;
  /** ORT intra-op threads per session. Default: cores / poolSize, at least 1. */
  intraOpThreads?: number;
  /**
   * Let ORT's intra-op threads spin-wait between operators (ORT's own default). Only matters
   * with intraOpThreads > 1: a little faster on an idle machine, much slower under contention.
   */
  allowSpinning?: boolean;
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

/** One batch's output and the time ORT spent on it inside its worker. */
export interface RunResult {
  data: Float32Array;
  dims: readonly number[];
  ms: number;
}

type ReadyMessage = {
  type: 'ready';
  activeProvider: ExecutionProvider;
  fallbackReason: string | null;
  signature: SessionSignature;
};
type WorkerMessage =
  | ReadyMessage
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; data: Float32Array; dims: number[]; ms: number }
  | { type: 'runError'; id: number; message: string };

interface Job {
  id: number;
  inputName: string;
  data: Float32Array;
  dims: readonly number[];
  outputName: string;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

const WORKER_URL = new URL('./session-worker.mjs', import.meta.url);
/** How long dispose() lets a session worker release its session before terminating it. */
const DISPOSE_TIMEOUT_MS = 5_000;

interface WorkerConfig {
  onnxPath: string;
  provider: ExecutionProvider;
  intraOpThreads: number;
  allowSpinning: boolean;
}

/** Starts one session worker and resolves once its session exists (or rejects with why not). */
function startWorker(config: WorkerConfig): Promise<{ worker: Worker; ready: ReadyMessage }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: config });
    const onExit = (code: number): void => reject(new Error(`session worker exited with code ${code} before it was ready`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (msg: WorkerMessage) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (msg.type === 'ready') {
        resolve({ worker, ready: msg });
      } else {
        void worker.terminate();
        reject(new Error(msg.type === 'fatal' ? msg.message : `unexpected first message ${msg.type}`));
      }
    });
  });
}

/**
 * A pool of ONNX Runtime sessions in worker threads with one FIFO queue: each session runs one
 * batch at a time; concurrent callers are served in arrival order. Create it with
 * {@link createModelSession}; it reports the provider that is actually active.
 */
export class SessionPool {
  readonly onnxPath: string;
  readonly requestedProvider: ExecutionProvider;
  readonly activeProvider: ExecutionProvider;
  readonly poolSize: number;
  readonly intraOpThreads: number;
  readonly allowSpinning: boolean;
  readonly signature: SessionSignature;
  readonly #slots: Slot[];
  readonly #queue: Job[] = [];
  readonly #log: SessionLogger;
  #nextId = 1;
  #closing = false;
  #idleWaiters: Array<() => void> = [];

  constructor(args: {
    config: WorkerConfig;
    poolSize: number;
    workers: Worker[];
    activeProvider: ExecutionProvider;
    signature: SessionSignature;
    logger: SessionLogger;
  }) {
    this.onnxPath = args.config.onnxPath;
    this.requestedProvider = args.config.provider;
    this.intraOpThreads = args.config.intraOpThreads;
    this.allowSpinning = args.config.allowSpinning;
    this.poolSize = args.poolSize;
    this.activeProvider = args.activeProvider;
    this.signature = args.signature;
    this.#log = args.logger;
    this.#slots = args.workers.map((worker) => {
      const slot = this.#attach({ worker, job: null });
      worker.unref(); // after attaching: adding a 'message' listener refs the worker again
      return slot;
    });
  }

  /** Batches queued or running right now (a gauge for metrics and back-pressure). */
  get pending(): number {
    return this.#queue.length + this.#slots.filter((s) => s.job !== null).length;
  }

  /** Sessions currently alive (a crashed worker is not replaced; the worker app should restart). */
  get liveSessions(): number {
    return this.#slots.length;
  }

  /**
   * Runs one float32 batch of shape `dims` through the graph on the next free session and
   * returns the named output. Takes ownership of `data`: when it spans its whole ArrayBuffer, that
   * buffer is transferred to the worker (zero-copy) and detached here; otherwise it is copied.
   */
  run(inputName: string, data: Float32Array, dims: readonly number[], outputName: string): Promise<RunResult> {
    if (this.#closing) return Promise.reject(new InferenceError(`session pool for ${this.onnxPath} is closed`));
    if (this.#slots.length === 0) return Promise.reject(new InferenceError(`session pool for ${this.onnxPath} has no live sessions`));
    return new Promise<RunResult>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, inputName, data, dims, outputName, resolve, reject });
      this.#dispatch();
    });
  }

  /**
   * Stops taking work, lets queued and running batches finish, then ends every worker. Idempotent.
   * Idle workers are unref'd, so a forgotten dispose() does not keep the process alive.
   */
  async dispose(): Promise<void> {
    this.#closing = true;
    if (this.pending > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    await Promise.all(
      this.#slots.splice(0).map(
        (slot) =>
          new Promise<void>((resolve) => {
            slot.worker.removeAllListeners('exit');
            slot.worker.once('exit', () => resolve());
            slot.worker.ref(); // let it release its session before the process may exit
            slot.worker.postMessage({ type: 'close' });
            // A wedged worker must not hang shutdown: terminate it if it has not closed in time.
            setTimeout(() => void slot.worker.terminate(), DISPOSE_TIMEOUT_MS).unref();
          }),
      ),
    );
  }

  #attach(slot: Slot): Slot {
    slot.worker.on('message', (msg: WorkerMessage) => {
      const job = slot.job;
      if (!job || !('id' in msg) || msg.id !== job.id) return;
      slot.job = null;
      slot.worker.unref();
      if (msg.type === 'result') job.resolve({ data: msg.data, dims: msg.dims, ms: msg.ms });
      else job.reject(new InferenceError(`ONNX Runtime run failed: ${msg.message}`));
      this.#dispatch();
    });
    slot.worker.on('error', (err) => {
      this.#log.warn({ onnxPath: this.onnxPath, reason: err.message }, 'session worker failed');
    });
    slot.worker.once('exit', (code) => {
      // Unexpected exit (native crash, out of memory): fail its batch, drop the slot, keep serving
      // on the others. With no sessions left every queued batch fails rather than waiting forever.
      const index = this.#slots.indexOf(slot);
      if (index >= 0) this.#slots.splice(index, 1);
      slot.job?.reject(new InferenceError(`session worker exited (code ${code}) while running a batch`));
      slot.job = null;
      this.#log.warn({ onnxPath: this.onnxPath, code, liveSessions: this.#slots.length }, 'session worker exited');
      if (this.#slots.length === 0) {
        for (const job of this.#queue.splice(0)) job.reject(new InferenceError('no live session workers'));
      }
      this.#dispatch();
    });
    return slot;
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.job !== null) continue;
      const job = this.#queue.shift();
      if (!job) break;
      slot.job = job;
      // Only a worker with a batch in flight keeps the process alive: an idle pool whose owner
      // forgot dispose() never holds up process exit, a running batch is never cut off.
      slot.worker.ref();
      const { id, inputName, dims, outputName } = job;
      // Transfer (zero-copy) only a buffer the batch owns whole; a view into a larger or shared
      // buffer is copied, so the caller's other data is never detached.
      const owned = job.data.buffer instanceof ArrayBuffer && job.data.byteOffset === 0 && job.data.byteLength === job.data.buffer.byteLength;
      const data = owned ? job.data : new Float32Array(job.data);
      slot.worker.postMessage({ type: 'run', id, inputName, data, dims, outputName }, [data.buffer as ArrayBuffer]);
    }
    if (this.pending === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}

/**
 * Starts the session pool for `onnxPath` on the requested provider, falling back from CUDA to CPU
 * with a warning (never silently) so a misconfigured GPU host still serves, and says so.
 */
export async function createModelSession(onnxPath: string, options: SessionOptions = {}): Promise<SessionPool> {
  const provider = options.provider ?? 'cpu';
  const cores = Math.max(1, availableParallelism());
  // With an explicit thread count, the default pool fills the cores with sessions of that size
  // (never more threads than cores: oversubscription is what the pool exists to avoid).
  const poolSize =
    options.poolSize ??
    (provider === 'cuda'
      ? 1
      : Math.min(MAX_DEFAULT_POOL_SIZE, Math.max(1, Math.floor(cores / Math.max(1, options.intraOpThreads ?? 1)))));
  const intraOpThreads = options.intraOpThreads ?? Math.max(1, Math.floor(cores / poolSize));
  for (const [name, value] of [
    ['poolSize', poolSize],
    ['intraOpThreads', intraOpThreads],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new ModelLoadError(onnxPath, `${name} must be a positive integer, got ${value}`);
  }
  const config: WorkerConfig = { onnxPath, provider, intraOpThreads, allowSpinning: options.allowSpinning ?? DEFAULT_ALLOW_SPINNING };
  const log = options.logger ?? createLogger('model');

  const started = await Promise.allSettled(Array.from({ length: poolSize }, () => startWorker(config)));
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    await Promise.all(workers.map((w) => w.worker.terminate()));
    const reason = failure.reason instanceof Error ? failure.reason.message : String(failure.reason);
    throw new ModelLoadError(onnxPath, `cannot create ONNX Runtime session: ${reason}`, { cause: failure.reason });
  }
  const first = workers[0]?.ready;
  if (!first) throw new ModelLoadError(onnxPath, 'no session worker started');
  const activeProvider = workers.every((w) => w.ready.activeProvider === 'cuda') ? 'cuda' : 'cpu';
  if (provider === 'cuda' && activeProvider === 'cpu') {
    const reason = workers.find((w) => w.ready.fallbackReason)?.ready.fallbackReason ?? 'unknown';
    log.warn({ requestedProvider: 'cuda', activeProvider, reason }, 'CUDA execution provider unavailable; falling back to CPU');
  }
  log.info({ provider: activeProvider, requestedProvider: provider, poolSize, intraOpThreads, allowSpinning: config.allowSpinning }, 'onnx session pool ready');
  return new SessionPool({
    config,
    poolSize,
    workers: workers.map((w) => w.worker),
    activeProvider,
    signature: first.signature,
    logger: log,
  });
}
