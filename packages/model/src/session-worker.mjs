// @ts-check
/**
 * Worker-thread side of the session pool (see session-pool.ts for why sessions live in worker
 * threads). Plain JavaScript on purpose: worker threads load it unchanged from src/ (tests, no
 * build) and from dist/ (tsc copies it with allowJs), at the same path relative to session-pool.
 *
 * Protocol (structured-clone messages; tensors are transferred, not copied):
 *   → ready  { activeProvider, fallbackReason, signature }     or  → fatal { message }
 *   ← run    { id, inputName, data: Float32Array, dims, outputName }
 *   → result { id, data: Float32Array, dims, ms }               or  → runError { id, message }
 *   ← close                                                      (releases the session, then exits)
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';

/**
 * @typedef {{ onnxPath: string, provider: 'cpu' | 'cuda', intraOpThreads: number, allowSpinning: boolean }} WorkerConfig
 */

/** @param {readonly ort.InferenceSession.ValueMetadata[]} metadata */
function shapesOf(metadata) {
  /** @type {Record<string, Array<number | string>>} */
  const out = {};
  for (const m of metadata) out[m.name] = m.isTensor ? [...m.shape] : [];
  return out;
}

/**
 * @param {WorkerConfig} config
 * @param {Array<'cpu' | 'cuda'>} providers
 */
function open(config, providers) {
  return ort.InferenceSession.create(config.onnxPath, {
    executionProviders: providers,
    intraOpNumThreads: config.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // ORT's own log goes to stderr unstructured; the pool logs the outcome instead.
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: config.allowSpinning ? '1' : '0' } } },
  });
}

async function main() {
  const port = parentPort;
  if (!port) throw new Error('session-worker must run in a worker thread');
  /** @type {WorkerConfig} */
  const config = workerData;
  /** @type {ort.InferenceSession} */
  let session;
  /** @type {'cpu' | 'cuda'} */
  let activeProvider = 'cpu';
  /** @type {string | null} */
  let fallbackReason = null;
  try {
    if (config.provider === 'cuda') {
      try {
        // ORT does not fall back by itself when the CUDA provider library is missing: creating
        // the session fails, so we retry on CPU and report why.
        session = await open(config, ['cuda', 'cpu']);
        activeProvider = 'cuda';
      } catch (err) {
        fallbackReason = err instanceof Error ? err.message : String(err);
        session = await open(config, ['cpu']);
      }
    } else {
      session = await open(config, ['cpu']);
    }
  } catch (err) {
    port.postMessage({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  port.postMessage({
    type: 'ready',
    activeProvider,
    fallbackReason,
    signature: {
      inputNames: [...session.inputNames],
      outputNames: [...session.outputNames],
      inputShapes: shapesOf(session.inputMetadata),
      outputShapes: shapesOf(session.outputMetadata),
    },
  });

  port.on('message', async (/** @type {any} */ msg) => {
    if (msg.type === 'close') {
      await session.release();
      port.close();
      return;
    }
    if (msg.type !== 'run') return;
    try {
      const started = performance.now();
      const outputs = await session.run({ [msg.inputName]: new ort.Tensor('float32', msg.data, msg.dims) }, [msg.outputName]);
      const ms = performance.now() - started;
      const out = outputs[msg.outputName];
      if (!out || out.type !== 'float32' || !(out.data instanceof Float32Array)) {
        throw new Error(`output "${msg.outputName}" missing or not float32`);
      }
      // Copy into a buffer we own so it can be transferred (ORT may hand out a view).
      const data = new Float32Array(out.data);
      port.postMessage({ type: 'result', id: msg.id, data, dims: [...out.dims], ms }, [data.buffer]);
    } catch (err) {
      port.postMessage({ type: 'runError', id: msg.id, message: err instanceof Error ? err.message : String(err) });
    }
  });
}

await main();
