/**
 * Test-only: writes a tiny ONNX model with the card's I/O contract (`image` [N,3,S,S] float32 →
 * `logits` [N,2]) using a hand-rolled protobuf encoder, so the runtime's tests run real ONNX
 * Runtime inference without Python and with logits we can compute by hand:
 *
 *   m_c      = mean over H,W of image[n, c]            (GlobalAveragePool + Flatten)
 *   logits   = m · W + b,  W: [3,2], b: [2]            (Gemm)
 *
 * Not part of the build (see tsconfig.build.json); not exported from the package.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// --- minimal protobuf wire-format writer (varint + length-delimited fields only) ---

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n; // two's complement for negative int64
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

type Field = number[];
const fieldVarint = (no: number, v: number | bigint): Field => [...varint((no << 3) | 0), ...varint(v)];
const fieldBytes = (no: number, bytes: Uint8Array | number[]): Field => [
  ...varint((no << 3) | 2),
  ...varint(bytes.length),
  ...bytes,
];
const fieldString = (no: number, s: string): Field => fieldBytes(no, [...Buffer.from(s, 'utf8')]);
const message = (...fields: Field[]): number[] => fields.flat();

const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;
const ATTR_INT = 2;

function tensorProto(name: string, dims: number[], values: number[]): number[] {
  const raw = Buffer.from(new Float32Array(values).buffer);
  return message(...dims.map((d) => fieldVarint(1, d)), fieldVarint(2, ONNX_FLOAT), fieldString(8, name), fieldBytes(9, [...raw]));
}

function valueInfo(name: string, dims: Array<number | string>): number[] {
  const dimsEncoded = dims.map((d) => fieldBytes(1, typeof d === 'number' ? fieldVarint(1, d) : fieldString(2, d)));
  const shape = message(...dimsEncoded);
  const tensorType = message(fieldVarint(1, ONNX_FLOAT), fieldBytes(2, shape));
  const typeProto = message(fieldBytes(1, tensorType));
  return message(fieldString(1, name), fieldBytes(2, typeProto));
}

function node(opType: string, inputs: string[], outputs: string[], attrs: Array<[string, number]> = []): number[] {
  return message(
    ...inputs.map((i) => fieldString(1, i)),
    ...outputs.map((o) => fieldString(2, o)),
    fieldString(3, `${opType.toLowerCase()}_0`),
    fieldString(4, opType),
    ...attrs.map(([n, v]) => fieldBytes(5, message(fieldString(1, n), fieldVarint(3, v), fieldVarint(20, ATTR_INT)))),
  );
}

/** Weights of the fixture's Gemm: row c = contribution of channel mean c to [healthy, ldh]. */
export const TINY_WEIGHTS: ReadonlyArray<readonly [number, number]> = [
  [0.5, -0.5],
  [-0.25, 1.0],
  [0.0, 0.75],
];
export const TINY_BIAS: readonly [number, number] = [0.1, -0.2];

function int64TensorProto(name: string, values: number[]): number[] {
  const raw = Buffer.from(new BigInt64Array(values.map(BigInt)).buffer);
  return message(fieldVarint(1, values.length), fieldVarint(2, ONNX_INT64), fieldString(8, name), fieldBytes(9, [...raw]));
}

/**
 * Serialises the fixture model for input size `size` (opset 17, dynamic batch `N`). With
 * `brokenAtRun`, the graph loads and declares the right I/O but every run of a single image fails
 * (a Reshape of 3 values to [-1, 5]), like a model with an operator that only fails at run time.
 */
export function tinyOnnxModel(size: number, opts: { brokenAtRun?: boolean } = {}): Buffer {
  const head = opts.brokenAtRun
    ? [fieldBytes(1, node('Reshape', ['features', 'shape'], ['logits'])), fieldBytes(5, int64TensorProto('shape', [-1, 5]))]
    : [fieldBytes(1, node('Gemm', ['features', 'W', 'b'], ['logits']))];
  const graph = message(
    fieldBytes(1, node('GlobalAveragePool', ['image'], ['pooled'])),
    fieldBytes(1, node('Flatten', ['pooled'], ['features'], [['axis', 1]])),
    ...head,
    fieldString(2, 'ldh-tiny-fixture'),
    fieldBytes(5, tensorProto('W', [3, 2], TINY_WEIGHTS.flat())),
    fieldBytes(5, tensorProto('b', [2], [...TINY_BIAS])),
    fieldBytes(11, valueInfo('image', ['N', 3, size, size])),
    fieldBytes(12, valueInfo('logits', ['N', 2])),
  );
  const model = message(
    fieldVarint(1, 8), // ir_version 8 (opset 17 era)
    fieldString(2, 'ldh-model-tests'),
    fieldBytes(7, graph),
    fieldBytes(8, message(fieldString(1, ''), fieldVarint(2, 17))),
  );
  return Buffer.from(model);
}

/** Logits the fixture must produce for one image tensor (3*S*S, channel-major). */
export function tinyExpectedLogits(tensor: Float32Array): [number, number] {
  const plane = tensor.length / 3;
  const means = [0, 1, 2].map((c) => {
    let s = 0;
    for (let i = c * plane; i < (c + 1) * plane; i++) s += tensor[i] ?? 0;
    return s / plane;
  });
  const out: [number, number] = [TINY_BIAS[0], TINY_BIAS[1]];
  means.forEach((m, c) => {
    const w = TINY_WEIGHTS[c] ?? [0, 0];
    out[0] += m * w[0];
    out[1] += m * w[1];
  });
  return out;
}

export interface TinyModelFiles {
  cardPath: string;
  onnxPath: string;
  sha256: string;
  card: Record<string, unknown>;
}

/** Writes `tiny.onnx` + `tiny.json` (a valid card) into `dir`; `overrides` patch the card. */
export async function writeTinyModel(
  dir: string,
  opts: { size?: number; overrides?: Record<string, unknown>; brokenAtRun?: boolean } = {},
): Promise<TinyModelFiles> {
  const size = opts.size ?? 16;
  const bytes = tinyOnnxModel(size, { brokenAtRun: opts.brokenAtRun ?? false });
  const onnxPath = join(dir, 'tiny.onnx');
  await writeFile(onnxPath, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const card: Record<string, unknown> = {
    schemaVersion: 1,
    name: 'ldh-tiny-fixture',
    version: '0.0.1-test',
    placeholder: true,
    file: 'tiny.onnx',
    sha256,
    architecture: 'GlobalAveragePool + Gemm (test fixture)',
    input: {
      name: 'image',
      layout: 'NCHW',
      channels: 3,
      size,
      dtype: 'float32',
      contract: 'ldh-input-v1',
      windowing: { method: 'percentile', lowPercentile: 0.5, highPercentile: 99.5 },
      normalisation: { mean: 0.5, std: 0.25 },
      resize: 'test-fixture',
      sliceSelection: { sagittalCentralSlices: 3, axialMaxSlices: 15 },
    },
    output: { name: 'logits', classOrder: ['healthy', 'ldh'], activation: 'softmax' },
    threshold: 0.5,
    aggregation: { method: 'mean', chosenOn: 'test fixture' },
    training: { data: 'none (hand-set weights)', command: 'none', seed: 0, epochs: 0, imageSize: size, images: 0, durationMin: 0 },
    metrics: {},
    intendedUse: 'tests only',
    disclaimer: 'Hand-set weights — not a classifier.',
    ...opts.overrides,
  };
  const cardPath = join(dir, 'tiny.json');
  await writeFile(cardPath, JSON.stringify(card, null, 2));
  return { cardPath, onnxPath, sha256, card };
}
