// Cross-language parity of the ldh-input-v2 contract and the exported model. The fixtures are
// generated in this run by the Python smoke pipeline (training/smoke.py: synthetic DICOM →
// Python preprocessing → a few training steps of the real ResNeXt-50 + dual attention model at
// 32 px → ONNX export), then checked here against onnxruntime-node and the TypeScript pipeline:
//   ONNX (onnxruntime-node) vs PyTorch:  max |Δp| ≤ 1e-4 on 32 images
//   TypeScript vs Python preprocessing:  max |Δ| ≤ 1e-3 after normalisation, same DICOM files and
//                                        series roles (each role's ROI, several pixel spacings)
//   TypeScript vs Python slice selection: identical SOP Instance UIDs
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelCard } from './model-card.js';
import { preprocessImage, readDicomImage, type InputContract } from './preprocess.js';
import { selectSlices, type SelectedSlices, type SeriesForSelection, type SliceRole } from './slice-selection.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PYTHON = '/usr/bin/python3'; // Debian's python3-torch stack (see training/README.md)

let dir = '';

function f32(buf: Buffer): Float32Array {
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
function f64(buf: Buffer): Float64Array {
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
async function json<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldh-parity-'));
  // Runs the Python unit tests too; fails the suite if any Python step fails.
  await promisify(execFile)(PYTHON, ['-m', 'training.smoke', '--out', dir], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Python ↔ TypeScript parity (ldh-input-v2)', () => {
  it('onnxruntime-node reproduces the PyTorch probabilities of the exported model (≤ 1e-4)', async () => {
    const meta = await json<{ n: number; size: number; inputs: string; logits: string; probs: string }>(join(dir, 'parity', 'parity.json'));
    expect(meta.n).toBe(32);
    const inputs = f32(await readFile(join(dir, 'parity', meta.inputs)));
    const torchLogits = f32(await readFile(join(dir, 'parity', meta.logits)));
    const torchP = f64(await readFile(join(dir, 'parity', meta.probs)));
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['cpu'] });
    try {
      expect(session.inputNames).toEqual(['image']);
      expect(session.outputNames).toEqual(['logits']);
      let maxDp = 0;
      let maxDlogit = 0;
      // Two batch sizes: the batch axis is dynamic.
      for (const batch of [32, 5]) {
        for (let start = 0; start < meta.n; start += batch) {
          const n = Math.min(batch, meta.n - start);
          const plane = 3 * meta.size * meta.size;
          const x = new ort.Tensor('float32', inputs.slice(start * plane, (start + n) * plane), [n, 3, meta.size, meta.size]);
          const out = await session.run({ image: x });
          const logits = out.logits;
          expect(logits?.dims).toEqual([n, 2]);
          const data = logits?.data as Float32Array;
          for (let i = 0; i < n; i++) {
            const l0 = data[2 * i] as number;
            const l1 = data[2 * i + 1] as number;
            const p = 1 / (1 + Math.exp(l0 - l1));
            maxDp = Math.max(maxDp, Math.abs(p - (torchP[start + i] as number)));
            maxDlogit = Math.max(maxDlogit, Math.abs(l0 - (torchLogits[2 * (start + i)] as number)), Math.abs(l1 - (torchLogits[2 * (start + i) + 1] as number)));
          }
        }
      }
      console.info(`parity ORT vs PyTorch: max |Δp| = ${maxDp.toExponential(2)}, max |Δlogit| = ${maxDlogit.toExponential(2)}`);
      expect(maxDp).toBeLessThanOrEqual(1e-4);
    } finally {
      await session.release();
    }
  });

  it('TypeScript preprocessing of the same DICOM files matches Python (≤ 1e-3)', async () => {
    const spec = await json<{ contract: InputContract; cases: Array<{ dicom: string; expected: string; role: SliceRole; kind: string[] }> }>(
      join(dir, 'preprocess', 'cases.json'),
    );
    expect(spec.contract.contract).toBe('ldh-input-v2');
    expect(spec.cases.length).toBeGreaterThanOrEqual(4);
    // Every role's ROI is exercised.
    expect(new Set(spec.cases.map((c) => c.role))).toEqual(new Set(['t1_sag', 't2_sag', 't2_ax']));
    let worst = 0;
    for (const c of spec.cases) {
      const img = await readDicomImage(await readFile(join(dir, 'preprocess', c.dicom)));
      const got = await preprocessImage(img, spec.contract, c.role);
      const want = f32(await readFile(join(dir, 'preprocess', c.expected)));
      expect(got.length).toBe(want.length);
      let maxD = 0;
      for (let i = 0; i < want.length; i++) maxD = Math.max(maxD, Math.abs((got[i] as number) - (want[i] as number)));
      expect(maxD, `${c.dicom} ${c.role} ${c.kind.join(' ')}`).toBeLessThanOrEqual(1e-3);
      worst = Math.max(worst, maxD);
    }
    console.info(`parity TS vs Python preprocessing: ${spec.cases.length} files, max |Δ| = ${worst.toExponential(2)}`);
  });

  it('TypeScript slice selection picks the same instances as Python', async () => {
    const spec = await json<{ sliceSelection: InputContract['sliceSelection']; studies: Array<{ series: SeriesForSelection[]; selected: SelectedSlices }> }>(
      join(dir, 'slices.json'),
    );
    expect(spec.studies.length).toBeGreaterThan(0);
    for (const s of spec.studies) {
      expect(selectSlices(s.series, { sliceSelection: spec.sliceSelection })).toEqual(s.selected);
    }
  });

  it('the card written by the Python exporter passes the runtime card schema and sha256 check', async () => {
    const loaded = await loadModelCard(join(dir, 'model.json'));
    expect(loaded.card.input.contract).toBe('ldh-input-v2');
    expect(loaded.card.input.roi?.t2_ax.sideMm).toBeGreaterThan(0);
    expect(loaded.card.placeholder).toBe(false);
  });
});
