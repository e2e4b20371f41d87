// Real ONNX Runtime (CPU) on a hand-built ONNX graph with known weights: GlobalAveragePool + Gemm,
// so expected logits are computed independently in the test (see testing/tiny-onnx.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  classifyImages,
  classifyStudy,
  createModelSession,
  loadModel,
  ModelCardError,
  ModelInputError,
  ModelLoadError,
  softmax2,
  type LoadedModel,
  type SessionLogger,
  type StudyImage,
} from '@ldh/model';
import { tinyExpectedLogits, writeTinyModel, type TinyModelFiles } from './testing/tiny-onnx.js';

const SIZE = 16;
const LEN = 3 * SIZE * SIZE;

/** Deterministic pseudo-random tensor (xorshift), values roughly in normalised range [-2, 2]. */
function tensor(seed: number, scale = 2): Float32Array {
  let x = (seed * 2654435761) >>> 0 || 1;
  const t = new Float32Array(LEN);
  for (let i = 0; i < LEN; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    t[i] = ((x / 0xffffffff) * 2 - 1) * scale + (seed % 5) * 0.3;
  }
  return t;
}

function recorder(): SessionLogger & { lines: Array<{ level: string; fields: object; message: string }> } {
  const lines: Array<{ level: string; fields: object; message: string }> = [];
  return {
    lines,
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
  };
}

let dir: string;
let tiny: TinyModelFiles;
let model: LoadedModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldh-model-rt-'));
  tiny = await writeTinyModel(dir, { size: SIZE });
  model = await loadModel(tiny.cardPath, { provider: 'cpu', intraOpThreads: 1, logger: recorder() });
});
afterAll(async () => {
  await model?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('loadModel', () => {
  it('loads the verified card on CPU and surfaces placeholder and provider', () => {
    expect(model.provider).toBe('cpu');
    expect(model.session.requestedProvider).toBe('cpu');
    expect(model.placeholder).toBe(true);
    expect(model.imageLength).toBe(LEN);
    expect(model.session.signature.inputShapes['image']).toEqual(['N', 3, SIZE, SIZE]);
  });

  it('falls back from CUDA to CPU for real, logs a warning and reports the active provider', async () => {
    const log = recorder();
    const cudaModel = await loadModel(tiny.cardPath, { provider: 'cuda', intraOpThreads: 1, logger: log });
    try {
      expect(cudaModel.session.requestedProvider).toBe('cuda');
      expect(cudaModel.provider).toBe('cpu');
      const warning = log.lines.find((l) => l.level === 'warn');
      expect(warning?.message).toMatch(/CUDA execution provider unavailable/);
      expect(warning?.fields).toMatchObject({ requestedProvider: 'cuda', activeProvider: 'cpu' });
      // ...and the fallback session really classifies.
      const t = tensor(3);
      const r = await classifyImages(cudaModel, [t]);
      expect(r.probabilities[0]).toBeCloseTo(softmax2(tinyExpectedLogits(t), 1), 5);
    } finally {
      await cudaModel.dispose();
    }
  });

  it('rejects a card whose input size does not match the graph', async () => {
    const sub = await mkdtemp(join(dir, 'mismatch-'));
    const other = await writeTinyModel(sub, { size: SIZE });
    // Card claims 32 px, graph is 16 px: re-write the card with a matching sha but wrong size.
    const { writeFile } = await import('node:fs/promises');
    const card = structuredClone(other.card) as { input: { size: number }; training: { imageSize: number } };
    card.input.size = 32;
    card.training.imageSize = 32;
    await writeFile(other.cardPath, JSON.stringify(card));
    const err = await loadModel(other.cardPath, { logger: recorder() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelCardError);
    expect((err as ModelCardError).field).toBe('input.size');
  });

  it('rejects a card whose input name is not in the graph', async () => {
    const sub = await mkdtemp(join(dir, 'name-'));
    const other = await writeTinyModel(sub, {
      size: SIZE,
      overrides: { input: { ...(tiny.card['input'] as object), name: 'pixels' } },
    });
    await expect(loadModel(other.cardPath, { logger: recorder() })).rejects.toThrow(/graph has no input "pixels"/);
  });

  it('fails start-up, not the first study, when the model only breaks at run time (warm-up)', async () => {
    const sub = await mkdtemp(join(dir, 'broken-run-'));
    const broken = await writeTinyModel(sub, { size: SIZE, brokenAtRun: true });
    const err = await loadModel(broken.cardPath, { poolSize: 2, intraOpThreads: 1, logger: recorder() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(/warm-up run failed/);
    // Without the warm-up the same model loads, and fails on its first images instead.
    const lazy = await loadModel(broken.cardPath, { poolSize: 1, intraOpThreads: 1, warmUp: false, logger: recorder() });
    try {
      await expect(classifyImages(lazy, [tensor(1)])).rejects.toThrow(/ONNX Runtime run failed/);
    } finally {
      await lazy.dispose();
    }
  });

  it('refuses non-positive thread and pool sizes', async () => {
    await expect(createModelSession(tiny.onnxPath, { intraOpThreads: 0, logger: recorder() })).rejects.toThrow(/intraOpThreads/);
    await expect(createModelSession(tiny.onnxPath, { poolSize: 1.5, logger: recorder() })).rejects.toThrow(/poolSize/);
  });

  it('reports a broken ONNX file as ModelLoadError from the worker', async () => {
    const { writeFile } = await import('node:fs/promises');
    const broken = join(dir, 'broken.onnx');
    await writeFile(broken, Buffer.from('not an onnx model'));
    await expect(createModelSession(broken, { poolSize: 2, logger: recorder() })).rejects.toThrow(
      /broken\.onnx: cannot create ONNX Runtime session/,
    );
  });

  it('sizes the default CPU pool from the cores (one-thread sessions, no spinning)', async () => {
    const { availableParallelism } = await import('node:os');
    const { MAX_DEFAULT_POOL_SIZE } = await import('@ldh/model');
    const pool = await createModelSession(tiny.onnxPath, { logger: recorder() });
    try {
      const cores = availableParallelism();
      expect(pool.poolSize).toBe(Math.min(cores, MAX_DEFAULT_POOL_SIZE));
      expect(pool.intraOpThreads).toBe(Math.max(1, Math.floor(cores / pool.poolSize)));
      expect(pool.allowSpinning).toBe(false);
      expect(pool.liveSessions).toBe(pool.poolSize);
    } finally {
      await pool.dispose();
    }
    // An explicit thread count shrinks the default pool so sessions × threads ≤ cores.
    const wide = await createModelSession(tiny.onnxPath, { intraOpThreads: 64, logger: recorder() });
    try {
      expect(wide.poolSize).toBe(1);
      expect(wide.intraOpThreads).toBe(64);
    } finally {
      await wide.dispose();
    }
  });
});

describe('classifyImages (real ONNX Runtime)', () => {
  const images = Array.from({ length: 11 }, (_, i) => tensor(i + 1));

  it('returns one probability in [0,1] per image, equal to softmax of the known logits', async () => {
    const r = await classifyImages(model, images, { batchSize: 4 });
    expect(r.probabilities).toHaveLength(images.length);
    expect(r.logits).toHaveLength(images.length);
    images.forEach((t, i) => {
      const expected = tinyExpectedLogits(t);
      expect(r.logits[i]?.[0]).toBeCloseTo(expected[0], 5);
      expect(r.logits[i]?.[1]).toBeCloseTo(expected[1], 5);
      const p = r.probabilities[i] ?? -1;
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(p).toBeCloseTo(softmax2(expected, 1), 6);
    });
    // The fixture's inputs were chosen so both classes occur: the probabilities are not constant.
    expect(Math.max(...r.probabilities) - Math.min(...r.probabilities)).toBeGreaterThan(0.05);
    expect(r.timings.batches.map((b) => b.images)).toEqual([4, 4, 3]);
    expect(r.timings.perImageMs).toBeGreaterThan(0);
    // Batches run in parallel on the pool, so their summed time may exceed the wall time.
    expect(r.timings.totalMs).toBeGreaterThan(0);
    expect(r.timings.perImageMs).toBeCloseTo(r.timings.batches.reduce((s, b) => s + b.ms, 0) / images.length, 9);
  });

  it('gives the same probabilities batched and one by one (max |Δ| < 1e-6)', async () => {
    const single = await classifyImages(model, images, { batchSize: 1 });
    for (const batchSize of [3, 8, 16]) {
      const batched = await classifyImages(model, images, { batchSize });
      const maxDelta = Math.max(...batched.probabilities.map((p, i) => Math.abs(p - (single.probabilities[i] ?? NaN))));
      expect(maxDelta).toBeLessThan(1e-6);
    }
    expect(single.timings.batches).toHaveLength(images.length);
  });

  it('serialises concurrent callers on one session without mixing their results', async () => {
    const a = images.slice(0, 5);
    const b = images.slice(5);
    const [ra, rb, rc] = await Promise.all([
      classifyImages(model, a, { batchSize: 2 }),
      classifyImages(model, b, { batchSize: 3 }),
      classifyImages(model, a, { batchSize: 5 }),
    ]);
    const all = await classifyImages(model, images, { batchSize: 16 });
    expect([...ra.probabilities, ...rb.probabilities]).toEqual(all.probabilities);
    expect(rc.probabilities).toEqual(ra.probabilities);
    expect(model.session.pending).toBe(0);
  });

  it('gives identical results whatever the pool size, and dispose() drains queued work first', async () => {
    const reference = await classifyImages(model, images, { batchSize: 2 });
    for (const poolSize of [1, 3]) {
      const other = await loadModel(tiny.cardPath, { poolSize, intraOpThreads: 1, logger: recorder() });
      expect(other.session.poolSize).toBe(poolSize);
      const inFlight = classifyImages(other, images, { batchSize: 2 });
      const disposed = other.dispose();
      expect((await inFlight).probabilities).toEqual(reference.probabilities);
      await disposed;
      expect(other.session.liveSessions).toBe(0);
      await expect(classifyImages(other, images)).rejects.toThrow(/closed/);
    }
  });

  it('holds no active handle while idle, so a forgotten dispose() cannot keep the process alive', async () => {
    const ports = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const before = ports();
    const pool = await loadModel(tiny.cardPath, { poolSize: 2, intraOpThreads: 1, logger: recorder() });
    try {
      expect(ports()).toBe(before);
      const running = classifyImages(pool, images, { batchSize: 2 });
      expect(ports()).toBe(before + 2); // both workers busy: each keeps the process alive until done
      await running;
      expect(ports()).toBe(before);
    } finally {
      await pool.dispose();
    }
  });

  it('copies a batch that is a view into a larger buffer instead of detaching the caller’s data', async () => {
    const big = new Float32Array(LEN * 2);
    big.set(tensor(4), 0);
    big.set(tensor(5), LEN);
    const view = big.subarray(LEN);
    const out = await model.session.run('image', view, [1, 3, SIZE, SIZE], 'logits');
    expect(big.length).toBe(LEN * 2); // not detached
    const expected = tinyExpectedLogits(tensor(5));
    expect(out.data[0]).toBeCloseTo(expected[0], 5);
    expect(out.data[1]).toBeCloseTo(expected[1], 5);
  });

  it('turns an ONNX Runtime failure inside a session worker into InferenceError and keeps serving', async () => {
    const { InferenceError } = await import('@ldh/model');
    const wrongDims = model.session.run('image', new Float32Array(10), [1, 3, SIZE, SIZE], 'logits');
    await expect(wrongDims).rejects.toThrow(InferenceError);
    await expect(model.session.run('pixels', new Float32Array(LEN), [1, 3, SIZE, SIZE], 'logits')).rejects.toThrow(
      /ONNX Runtime run failed/,
    );
    expect(model.session.liveSessions).toBe(model.session.poolSize);
    expect((await classifyImages(model, [tensor(1)])).probabilities).toHaveLength(1);
  });

  it('rejects wrong tensor sizes, NaN, empty input and bad batch sizes with ModelInputError', async () => {
    await expect(classifyImages(model, [tensor(1), new Float32Array(LEN - 1)])).rejects.toThrow(
      /image 1: tensor has 767 values, model expects 768/,
    );
    const nan = tensor(2);
    nan[100] = NaN;
    await expect(classifyImages(model, [nan])).rejects.toThrow(/image 0: non-finite value at offset 100/);
    const inf = tensor(2);
    inf[5] = Infinity;
    await expect(classifyImages(model, [inf])).rejects.toThrow(ModelInputError);
    await expect(classifyImages(model, [])).rejects.toThrow(ModelInputError);
    await expect(classifyImages(model, [tensor(1)], { batchSize: 0 })).rejects.toThrow(/batchSize/);
    // The session is unharmed by rejected input.
    const ok = await classifyImages(model, [tensor(1)]);
    expect(ok.probabilities).toHaveLength(1);
  });
});

describe('classifyStudy', () => {
  const roles = ['t1_sag', 't1_sag', 't2_sag', 't2_ax', 't2_ax'] as const;
  const studyImages: StudyImage[] = roles.map((role, i) => ({
    sopInstanceUid: `2.25.${1000 + i}`,
    seriesInstanceUid: `2.25.${role === 't1_sag' ? 1 : role === 't2_sag' ? 2 : 3}`,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
    role,
    tensor: tensor(i + 7),
  }));

  it('returns model identity, placeholder flag, per-image scores in order and the study decision', async () => {
    const r = await classifyStudy(studyImages, model, { batchSize: 2 });
    expect(r.modelName).toBe('ldh-tiny-fixture');
    expect(r.modelVersion).toBe('0.0.1-test');
    expect(r.modelSha256).toBe(tiny.sha256);
    expect(r.placeholder).toBe(true);
    expect(r.provider).toBe('cpu');
    expect(r.aggregation).toBe('mean');
    expect(r.perImage.map((p) => [p.sopInstanceUid, p.role])).toEqual(studyImages.map((s) => [s.sopInstanceUid, s.role]));
    const expected = studyImages.map((s) => softmax2(tinyExpectedLogits(s.tensor), 1));
    r.perImage.forEach((p, i) => expect(p.probability).toBeCloseTo(expected[i] ?? NaN, 6));
    const mean = expected.reduce((s, p) => s + p, 0) / expected.length;
    expect(r.study.probability).toBeCloseTo(mean, 6);
    expect(r.study.threshold).toBe(0.5);
    expect(r.study.decision).toBe(mean >= 0.5 ? 'ldh' : 'healthy');
    expect(r.timings.totalMs).toBeGreaterThan(0);
    expect(r.timings.perImageMs).toBeGreaterThan(0);
  });

  it('names the offending instance by UID, and rejects duplicates, unknown roles and empty studies', async () => {
    const bad = studyImages.map((s, i) => (i === 3 ? { ...s, tensor: new Float32Array(10) } : s));
    await expect(classifyStudy(bad, model)).rejects.toThrow(/image 3: .*sopInstanceUid 2\.25\.1003/);
    const dup = [...studyImages, { ...studyImages[0]! }];
    await expect(classifyStudy(dup, model)).rejects.toThrow(/duplicate sopInstanceUid/);
    const role = [{ ...studyImages[0]!, role: 'dwi' as unknown as StudyImage['role'] }];
    await expect(classifyStudy(role, model)).rejects.toThrow(/unknown role "dwi"/);
    await expect(classifyStudy([], model)).rejects.toThrow(ModelInputError);
  });

  it('scores frames of one multi-frame instance as separate images, carrying their frame numbers', async () => {
    const frames: StudyImage[] = [3, 4].map((frameNumber, i) => ({ ...studyImages[2]!, sopClassUid: '1.2.840.10008.5.1.4.1.1.4.1', frameNumber, tensor: tensor(20 + i) }));
    const r = await classifyStudy([studyImages[0]!, ...frames], model);
    expect(r.perImage.map((p) => [p.sopInstanceUid, p.frameNumber])).toEqual([
      ['2.25.1000', undefined],
      ['2.25.1002', 3],
      ['2.25.1002', 4],
    ]);
    expect(r.perImage[0]).not.toHaveProperty('frameNumber');
    await expect(classifyStudy([...frames, { ...frames[1]! }], model)).rejects.toThrow(/image 2: duplicate sopInstanceUid 2\.25\.1002 frame 4/);
    await expect(classifyStudy([{ ...frames[0]!, frameNumber: 0 }], model)).rejects.toThrow(/frameNumber 0 is not a 1-based frame number/);
  });
});
