import { describe, expect, it } from 'vitest';
import { ModelCardError, ModelInputError } from './errors.js';
import {
  INPUT_CONTRACT_ID,
  RESIZE_METHOD,
  percentileLinear,
  preprocessImage,
  preprocessImageSync,
  readDicomImage,
  resizeSquare,
  toUnitImage,
  triangleWeights,
  type InputContract,
} from './preprocess.js';

const contract = (size: number): InputContract => ({
  contract: INPUT_CONTRACT_ID,
  size,
  windowing: { method: 'percentile', lowPercentile: 0.5, highPercentile: 99.5 },
  normalisation: { mean: 0.5, std: 0.25 },
  resize: RESIZE_METHOD,
  sliceSelection: { sagittalCentralSlices: 3, axialMaxSlices: 15 },
});

// 4×6 image; expected values computed by training/preprocess.py (the reference).
const PIX = [0, 37, 74, 10, 47, 84, 20, 57, 94, 30, 67, 3, 40, 77, 13, 50, 87, 23, 60, 97, 33, 70, 6, 43];
const PY_S4 = [
  -1.785916, -1.155686, -1.546785, -0.913197, -0.789017, 0.638627, -0.197151, -0.203625, 0.406035, 0.024302, 0.174078,
  -0.402058, -0.856807, -1.096909, -1.311434, -1.55176,
];
const PY_S8_LUT_MONO1_ROWS_2_TO_3 = [
  -1.693879, -0.739036, 0.410134, 1.038314, -0.955249, -0.327069, 0.235567, 0.212854, -1.079846, -0.119406, 0.836492,
  1.202497, -0.397804, 0.295919, -0.124598, -1.7859,
];

describe('preprocessImage (ldh-input-v1)', () => {
  it('matches the Python reference on a small image (downsampling path)', async () => {
    const out = await preprocessImage({ pixels: Uint16Array.from(PIX), rows: 4, columns: 6 }, contract(4));
    expect(out).toHaveLength(3 * 16);
    const maxDiff = Math.max(...PY_S4.map((v, i) => Math.abs(v - (out[i] as number))));
    expect(maxDiff).toBeLessThan(1e-5);
    // three identical channels
    expect(Array.from(out.subarray(16, 32))).toEqual(Array.from(out.subarray(0, 16)));
    expect(Array.from(out.subarray(32, 48))).toEqual(Array.from(out.subarray(0, 16)));
  });

  it('applies the Modality LUT, MONOCHROME1 inversion and zero padding like Python (upsampling path)', () => {
    const out = preprocessImageSync(
      { pixels: Uint16Array.from(PIX), rows: 4, columns: 6, rescaleSlope: -1.5, rescaleIntercept: 10, photometricInterpretation: 'MONOCHROME1' },
      contract(8),
    );
    // rows 0 and 7 are padding: value 0 after inversion → (0 − 0.5)/0.25 = −2
    expect(Array.from(out.subarray(0, 8))).toEqual(new Array(8).fill(-2));
    expect(Array.from(out.subarray(56, 64))).toEqual(new Array(8).fill(-2));
    const got = Array.from(out.subarray(16, 32));
    const maxDiff = Math.max(...PY_S8_LUT_MONO1_ROWS_2_TO_3.map((v, i) => Math.abs(v - (got[i] as number))));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('percentile equals numpy linear interpolation', () => {
    const a = Float64Array.from([1, 2, 3, 4, 10]);
    expect(percentileLinear(a, 0)).toBe(1);
    expect(percentileLinear(a, 100)).toBe(10);
    expect(percentileLinear(a, 50)).toBe(3);
    expect(percentileLinear(a, 99.5)).toBeCloseTo(4 + 6 * 0.98, 12);
    expect(() => percentileLinear(new Float64Array(0), 50)).toThrow(ModelInputError);
  });

  it('resample weights sum to one and keep a constant image constant', () => {
    for (const [a, b] of [
      [320, 128],
      [48, 128],
      [17, 5],
    ] as const) {
      const { weights } = triangleWeights(a, b);
      for (const w of weights) expect(w.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
      const y = resizeSquare(new Float64Array(a * a).fill(0.25), a, b);
      expect(Math.max(...y.map((v) => Math.abs(v - 0.25)))).toBeLessThan(1e-12);
    }
  });

  it('a constant image windows to zero instead of dividing by zero', () => {
    const unit = toUnitImage({ pixels: new Uint16Array(100).fill(7), rows: 10, columns: 10 }, contract(4));
    expect(Array.from(unit)).toEqual(new Array(16).fill(0));
  });

  it('refuses an unknown contract or resize and malformed input', () => {
    expect(() => preprocessImageSync({ pixels: new Uint16Array(4), rows: 2, columns: 2 }, { ...contract(4), contract: 'ldh-input-v2' })).toThrow(
      ModelCardError,
    );
    expect(() => preprocessImageSync({ pixels: new Uint16Array(4), rows: 2, columns: 2 }, { ...contract(4), resize: 'sharp-linear' })).toThrow(
      /resize/,
    );
    expect(() => preprocessImageSync({ pixels: new Uint16Array(3), rows: 2, columns: 2 }, contract(4))).toThrow(ModelInputError);
    expect(() => readDicomImage(new Uint8Array(10))).toThrow(ModelInputError);
  });
});
