import { mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadModelCard, parseModelCard, ModelCardError, sha256File } from '@ldh/model';
import { writeTinyModel, type TinyModelFiles } from './testing/tiny-onnx.js';

let dir: string;
let tiny: TinyModelFiles;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldh-model-card-'));
  tiny = await writeTinyModel(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deep-patches a copy of the valid card: `set(card, 'input.size', 64)`; `undefined` deletes. */
function patched(path: string, value: unknown): Record<string, unknown> {
  const card = structuredClone(tiny.card);
  const keys = path.split('.');
  let node: Record<string, unknown> = card;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return card;
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelCardError);
    return (err as ModelCardError).field;
  }
  throw new Error('expected a ModelCardError');
}

describe('parseModelCard (schema)', () => {
  it('accepts the contract card and surfaces the placeholder flag', () => {
    const card = parseModelCard(tiny.card, 'tiny.json');
    expect(card.placeholder).toBe(true);
    expect(card.output.classOrder).toEqual(['healthy', 'ldh']);
    expect(card.aggregation.method).toBe('mean');
  });

  it.each([
    ['sha256', 'ABC'],
    ['file', '../elsewhere.onnx'],
    ['file', 'model.bin'],
    ['input.size', 0],
    ['input.channels', 1],
    ['input.layout', 'NHWC'],
    ['output.classOrder', ['healthy', 'other']],
    ['output.activation', 'sigmoid'],
    ['threshold', 1],
    ['input.normalisation.std', 0],
    ['schemaVersion', 2],
    ['placeholder', 'no'],
    ['disclaimer', undefined],
    ['training.seed', undefined],
  ])('rejects %s = %j and names the field', (path, value) => {
    expect(fieldOf(() => parseModelCard(patched(path, value), 'tiny.json'))).toBe(path);
  });

  it('requires k for topk-mean and accepts it when present', () => {
    expect(fieldOf(() => parseModelCard(patched('aggregation', { method: 'topk-mean', chosenOn: 'x' }), 'c'))).toBe('aggregation.k');
    const card = parseModelCard(patched('aggregation', { method: 'topk-mean', k: 3, chosenOn: 'x' }), 'c');
    expect(card.aggregation).toEqual({ method: 'topk-mean', k: 3, chosenOn: 'x' });
  });

  it('rejects an unknown aggregation method', () => {
    expect(fieldOf(() => parseModelCard(patched('aggregation', { method: 'median', chosenOn: 'x' }), 'c'))).toMatch(/^aggregation/);
  });

  it('checks cross-field consistency (training.imageSize vs input.size, percentile order)', () => {
    expect(fieldOf(() => parseModelCard(patched('training.imageSize', 999), 'c'))).toBe('training.imageSize');
    expect(fieldOf(() => parseModelCard(patched('input.windowing.lowPercentile', 99.9), 'c'))).toBe('input.windowing');
  });

  it('requires input.roi (every role, each entry valid) with contract ldh-input-v2, and refuses it with v1', () => {
    const roi = {
      t1_sag: { centre: [0.7, 0.6], sideMm: 160 },
      t2_sag: { centre: [0.7, 0.6], sideMm: 160 },
      t2_ax: { centre: [0.58, 0.5], sideMm: 120 },
    };
    const v2 = (r: unknown): Record<string, unknown> => {
      const card = patched('input.contract', 'ldh-input-v2');
      if (r !== undefined) (card.input as Record<string, unknown>).roi = r;
      return card;
    };
    expect(parseModelCard(v2(roi), 'c').input.roi?.t2_ax).toEqual({ centre: [0.58, 0.5], sideMm: 120 });
    expect(fieldOf(() => parseModelCard(v2(undefined), 'c'))).toBe('input.roi');
    expect(fieldOf(() => parseModelCard(v2({ t1_sag: roi.t1_sag, t2_sag: roi.t2_sag }), 'c'))).toBe('input.roi.t2_ax');
    expect(fieldOf(() => parseModelCard(v2({ ...roi, t2_ax: { centre: [0.5, 0.5], sideMm: 0 } }), 'c'))).toBe('input.roi.t2_ax.sideMm');
    expect(fieldOf(() => parseModelCard(v2({ ...roi, t1_sag: { centre: [0.5], sideMm: 10 } }), 'c'))).toMatch(/^input\.roi\.t1_sag\.centre/);
    expect(fieldOf(() => parseModelCard(v2({ ...roi, t1_sag: { centre: [0.5, '0.5'], sideMm: 10 } }), 'c'))).toMatch(/^input\.roi\.t1_sag\.centre/);
    expect(fieldOf(() => parseModelCard(patched('input.roi', roi), 'c'))).toBe('input.roi'); // the fixture is v1
  });

  it('names the source file in the message', () => {
    expect(() => parseModelCard({}, 'models/x.json')).toThrow(/^models\/x\.json: invalid field/);
  });
});

describe('loadModelCard', () => {
  it('loads a valid card and resolves the ONNX file beside it', async () => {
    const loaded = await loadModelCard(tiny.cardPath);
    expect(loaded.onnxPath).toBe(tiny.onnxPath);
    expect(loaded.card.sha256).toBe(await sha256File(tiny.onnxPath));
  });

  it('detects a modified ONNX file (sha256 mismatch) and names the file', async () => {
    await appendFile(tiny.onnxPath, Buffer.from([0]));
    const err = await loadModelCard(tiny.cardPath).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelCardError);
    expect((err as ModelCardError).field).toBe('sha256');
    expect((err as ModelCardError).file).toBe(tiny.onnxPath);
    expect((err as Error).message).toContain(tiny.sha256);
  });

  it('reports a missing ONNX file, a missing card and malformed JSON as ModelCardError', async () => {
    await writeFile(join(dir, 'gone.json'), JSON.stringify(patched('file', 'gone.onnx')));
    await expect(loadModelCard(join(dir, 'gone.json'))).rejects.toThrow(/gone\.onnx: cannot read model file.*ENOENT/);
    await expect(loadModelCard(join(dir, 'nope.json'))).rejects.toThrow(ModelCardError);
    await writeFile(join(dir, 'bad.json'), '{ not json');
    await expect(loadModelCard(join(dir, 'bad.json'))).rejects.toThrow(/not valid JSON/);
  });
});
