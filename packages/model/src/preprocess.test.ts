import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ModelCardError, ModelInputError } from './errors.js';
import {
  INPUT_CONTRACT_ID,
  RESIZE_METHOD,
  assertSupportedContract,
  percentileLinear,
  preprocessImage,
  preprocessImageSync,
  readDicomImage,
  resizeSquare,
  roiBox,
  toUnitImage,
  triangleWeights,
  type InputContract,
  type PixelInput,
} from './preprocess.js';

const contract = (size: number): InputContract => ({
  contract: 'ldh-input-v1',
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

describe('preprocessImage (ldh-input-v1, still accepted for older cards)', () => {
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

  it('refuses an unknown contract or resize and malformed input', async () => {
    expect(() => preprocessImageSync({ pixels: new Uint16Array(4), rows: 2, columns: 2 }, { ...contract(4), contract: 'ldh-input-v3' })).toThrow(
      ModelCardError,
    );
    expect(() => preprocessImageSync({ pixels: new Uint16Array(4), rows: 2, columns: 2 }, { ...contract(4), resize: 'sharp-linear' })).toThrow(
      /resize/,
    );
    expect(() => preprocessImageSync({ pixels: new Uint16Array(3), rows: 2, columns: 2 }, contract(4))).toThrow(ModelInputError);
    await expect(readDicomImage(new Uint8Array(10))).rejects.toThrow(ModelInputError);
  });
});

// ---------------------------------------------------------------------------------------------
// ldh-input-v2: the series role's region of interest (same cases as training/tests/test_preprocess.py).

const ROI = {
  t1_sag: { centre: [0.7, 0.6], sideMm: 160 },
  t2_sag: { centre: [0.7, 0.6], sideMm: 160 },
  t2_ax: { centre: [0.58, 0.5], sideMm: 120 },
} satisfies InputContract['roi'];
const contractV2 = (size: number): InputContract => ({ ...contract(size), contract: INPUT_CONTRACT_ID, roi: structuredClone(ROI) });

/** Deterministic uniform integers in [lo, hi) (mulberry32), so the tests need no fixtures. */
function randomInts(n: number, lo: number, hi: number, seed: number): Uint16Array {
  const out = new Uint16Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo));
  }
  return out;
}

/** rows × cols block of a row-major image with `stride` columns, as float64. */
function block(x: ArrayLike<number>, stride: number, top: number, left: number, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = x[(top + r) * stride + left + c] as number;
  return out;
}

/** window_percentile() of training/preprocess.py, written out independently of toUnitImage(). */
function windowRef(v: Float64Array): Float64Array {
  const sorted = Float64Array.from(v).sort();
  const lo = percentileLinear(sorted, 0.5);
  const hi = percentileLinear(sorted, 99.5);
  return v.map((x) => (hi > lo ? Math.min(1, Math.max(0, (x - lo) / (hi - lo))) : 0));
}

function zeroOutside(unit: Float64Array, side: number, top: number, left: number, rows: number, cols: number): boolean {
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const inside = r >= top && r < top + rows && c >= left && c < left + cols;
      if (!inside && unit[r * side + c] !== 0) return false;
    }
  }
  return true;
}

describe('preprocessImage (ldh-input-v2: region of interest per series role)', () => {
  it('computes the ROI box in millimetres, rounding half up', () => {
    // 320×320 at 0.6 mm: 200 px square; top = ⌊0.58·320 − 100 + 0.5⌋ = 86, left = 60.
    expect(roiBox(320, 320, [0.6, 0.6], ROI.t2_ax)).toEqual({ top: 86, left: 60, height: 200, width: 200 });
    // Non-square pixels: height from the row spacing, width from the column spacing; top < 0.
    expect(roiBox(100, 100, [1.0, 2.0], ROI.t2_ax)).toEqual({ top: -2, left: 20, height: 120, width: 60 });
    // At least one pixel, however coarse the spacing.
    expect(roiBox(10, 10, [500, 500], ROI.t2_ax)).toMatchObject({ height: 1, width: 1 });
    for (const bad of [[0, 1], [1, -1], [Number.NaN, 1], [1, Number.POSITIVE_INFINITY]]) {
      expect(() => roiBox(100, 100, bad, ROI.t2_ax)).toThrow(/invalid PixelSpacing/);
    }
    expect(() => roiBox(100, 100, [1, 1], { centre: [3.0, 0.5], sideMm: 10 })).toThrow(/outside the image/);
    expect(() => roiBox(100, 100, [1, 1], { centre: [0.5, -0.2], sideMm: 10 })).toThrow(ModelInputError);
  });

  it('cuts the ROI inside the image, then windows only its pixels', () => {
    const x = randomInts(320 * 320, 0, 4000, 6);
    x.fill(60000, 0, 40 * 320); // rows 0–39 are outside the axial ROI: they must not set the window
    const unit = toUnitImage({ pixels: x, rows: 320, columns: 320, pixelSpacing: [0.6, 0.6] }, contractV2(200), 't2_ax');
    // 200 px ROI at S = 200: no resize, so the result is exactly the window of the sub-array.
    expect(Array.from(unit)).toEqual(Array.from(windowRef(block(x, 320, 86, 60, 200, 200))));
    // The whole image (v1) would have been windowed differently.
    const whole = block(x, 320, 0, 0, 320, 320);
    expect(Array.from(windowRef(block(whole, 320, 86, 60, 200, 200)))).not.toEqual(Array.from(block(windowRef(whole), 320, 86, 60, 200, 200)));
  });

  it('leaves the parts of the ROI outside the image at 0, also after MONOCHROME1 inversion', () => {
    const x = randomInts(40 * 48, 100, 4000, 7);
    const img: PixelInput = { pixels: x, rows: 40, columns: 48, pixelSpacing: [1, 1] };
    // A 120 mm ROI on a 40×48 mm image: box (−37, −36, 120, 120), no resize at S = 120.
    expect(roiBox(40, 48, [1, 1], ROI.t2_ax)).toEqual({ top: -37, left: -36, height: 120, width: 120 });
    const unit = toUnitImage(img, contractV2(120), 't2_ax');
    const want = windowRef(block(x, 48, 0, 0, 40, 48));
    expect(Array.from(block(unit, 120, 37, 36, 40, 48))).toEqual(Array.from(want));
    expect(zeroOutside(unit, 120, 37, 36, 40, 48)).toBe(true);
    const inverted = toUnitImage({ ...img, photometricInterpretation: 'MONOCHROME1' }, contractV2(120), 't2_ax');
    expect(Array.from(block(inverted, 120, 37, 36, 40, 48))).toEqual(Array.from(want.map((v) => 1 - v)));
    expect(zeroOutside(inverted, 120, 37, 36, 40, 48)).toBe(true);
  });

  it('pads a non-square ROI (non-square pixels) to a centred square', () => {
    const x = randomInts(100 * 100, 0, 4000, 8);
    // Box (−2, 20, 120, 60): square side 120, the box sits at column (120 − 60)/2 = 30; the image
    // part (rows 0–99, columns 20–79) starts 2 rows into the box.
    const unit = toUnitImage({ pixels: x, rows: 100, columns: 100, pixelSpacing: [1, 2] }, contractV2(120), 't2_ax');
    expect(Array.from(block(unit, 120, 2, 30, 100, 60))).toEqual(Array.from(windowRef(block(x, 100, 0, 20, 100, 60))));
    expect(zeroOutside(unit, 120, 2, 30, 100, 60)).toBe(true);
  });

  it('uses the role’s own ROI and resizes the box like v1 resizes an image', () => {
    const x = randomInts(360 * 256, 0, 4000, 9);
    const img: PixelInput = { pixels: x, rows: 360, columns: 256, rescaleSlope: 2, rescaleIntercept: -7, pixelSpacing: [0.8, 0.8] };
    const sag = preprocessImageSync(img, contractV2(64), 't2_sag');
    const ax = preprocessImageSync(img, contractV2(64), 't2_ax');
    expect(sag).toHaveLength(3 * 64 * 64);
    expect(Array.from(sag)).not.toEqual(Array.from(ax));
    expect(Array.from(preprocessImageSync(img, contractV2(64), 't1_sag'))).toEqual(Array.from(sag)); // same ROI values
    // Sagittal box: 200×200 at (⌊0.7·360 − 100 + 0.5⌋, ⌊0.6·256 − 100 + 0.5⌋) = (152, 54), inside the image;
    // v2 there = v1 of that crop (same Modality LUT, window, resize).
    expect(roiBox(360, 256, [0.8, 0.8], ROI.t2_sag)).toEqual({ top: 152, left: 54, height: 200, width: 200 });
    const crop: PixelInput = { ...img, pixels: Uint16Array.from(block(x, 256, 152, 54, 200, 200)), rows: 200, columns: 200 };
    expect(Array.from(sag)).toEqual(Array.from(preprocessImageSync(crop, contract(64))));
  });

  it('needs the series role, a ROI for it and a usable PixelSpacing', async () => {
    const img: PixelInput = { pixels: new Uint16Array(400).fill(1), rows: 20, columns: 20, pixelSpacing: [1, 1] };
    expect(() => toUnitImage(img, contractV2(16))).toThrow(/series role/);
    await expect(preprocessImage(img, contractV2(16))).rejects.toThrow(ModelInputError);
    const noAxial = { ...contractV2(16), roi: { t1_sag: ROI.t1_sag, t2_sag: ROI.t2_sag } } as unknown as InputContract;
    expect(() => toUnitImage(img, noAxial, 't2_ax')).toThrow(/series role "t2_ax"/);
    const { pixelSpacing: _omit, ...noSpacing } = img;
    expect(() => toUnitImage(noSpacing, contractV2(16), 't2_ax')).toThrow(/PixelSpacing is required/);
    expect(() => toUnitImage({ ...img, pixelSpacing: [1] }, contractV2(16), 't2_ax')).toThrow(/PixelSpacing is required/);
    expect(() => preprocessImageSync({ ...img, pixelSpacing: [0, 1] }, contractV2(16), 't2_ax')).toThrow(ModelInputError);
  });

  it('refuses a v2 card without a valid roi, and a v1 card with one', () => {
    const field = (c: InputContract): string | undefined => {
      try {
        assertSupportedContract(c);
      } catch (err) {
        expect(err).toBeInstanceOf(ModelCardError);
        return (err as ModelCardError).field;
      }
      return 'accepted';
    };
    expect(field(contractV2(16))).toBe('accepted');
    expect(field(contract(16))).toBe('accepted');
    const { roi: _omit, ...v2NoRoi } = contractV2(16);
    expect(field(v2NoRoi)).toBe('input.roi');
    expect(field({ ...contractV2(16), roi: { ...ROI, t2_ax: { centre: [0.5, 0.5], sideMm: 0 } } })).toBe('input.roi.t2_ax');
    expect(field({ ...contractV2(16), roi: { ...ROI, t1_sag: { centre: [0.5, Number.NaN], sideMm: 10 } } })).toBe('input.roi.t1_sag');
    expect(field({ ...contract(16), roi: ROI })).toBe('input.roi');
    expect(() => preprocessImageSync({ pixels: new Uint16Array(4), rows: 2, columns: 2, pixelSpacing: [1, 1] }, v2NoRoi, 't2_ax')).toThrow(ModelCardError);
  });

  it('v1 ignores role and PixelSpacing (output unchanged)', () => {
    const img: PixelInput = { pixels: Uint16Array.from(PIX), rows: 4, columns: 6 };
    const plain = preprocessImageSync(img, contract(4));
    expect(Array.from(preprocessImageSync({ ...img, pixelSpacing: [0.1, 0.1] }, contract(4), 't2_ax'))).toEqual(Array.from(plain));
  });
});

describe('readDicomImage', () => {
  const dcmjs = createRequire(import.meta.url)('dcmjs') as {
    data: {
      DicomDict: new (meta: Record<string, unknown>) => { dict: Record<string, unknown>; write(): ArrayBuffer };
      DicomMetaDictionary: { denaturalizeDataset(ds: Record<string, unknown>): Record<string, unknown> };
    };
  };
  /** A synthetic 64×48 MR file (explicit VR LE, 16-bit), with or without PixelSpacing. */
  function mrFile(sop: string, pixelSpacing?: string): Uint8Array {
    const meta = {
      FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
      MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
      MediaStorageSOPInstanceUID: sop,
      TransferSyntaxUID: '1.2.840.10008.1.2.1',
    };
    const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
    dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
      SOPInstanceUID: sop,
      Rows: 64,
      Columns: 48,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      BitsAllocated: 16,
      BitsStored: 12,
      HighBit: 11,
      PixelRepresentation: 0,
      ...(pixelSpacing === undefined ? {} : { PixelSpacing: pixelSpacing }),
      PixelData: randomInts(64 * 48, 0, 4000, 10).buffer,
      _vrMap: { PixelData: 'OW' },
    });
    return new Uint8Array(dict.write());
  }

  it('reads PixelSpacing (0028,0030) as [row, column] mm; v2 without it names the SOP Instance UID', async () => {
    const img = await readDicomImage(mrFile('2.25.101', '0.7\\0.9'));
    expect(img.pixelSpacing).toEqual([0.7, 0.9]);
    expect(preprocessImageSync(img, contractV2(32), 't2_sag')).toHaveLength(3 * 32 * 32);
    const bare = await readDicomImage(mrFile('2.25.102'));
    expect(bare.pixelSpacing).toBeUndefined();
    expect(() => preprocessImageSync(bare, contractV2(32), 't2_sag')).toThrow(/^2\.25\.102: PixelSpacing is required/);
  });
});
