import { describe, expect, it } from 'vitest';
import { decodeFrame, DECODABLE_TRANSFER_SYNTAXES, PixelDecodeError } from './index.js';
import { writeEncapsulatedDicom, writeNativeDicom, type TestImage } from './testing/index.js';

// Native (uncompressed) decoding and every refusal, on files written here with dcmjs. The
// compressed syntaxes are tested against real encoders in decode-frame.int.test.ts.

const base = (over: Partial<TestImage>): TestImage => ({
  rows: 3,
  columns: 4,
  bitsAllocated: 16,
  bitsStored: 16,
  pixelRepresentation: 0,
  pixels: Array.from({ length: 12 }, (_, i) => i * 1000),
  sopInstanceUid: '2.25.4242',
  ...over,
});

async function rejection(p: Promise<unknown>): Promise<PixelDecodeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PixelDecodeError);
  return err as PixelDecodeError;
}

describe('decodeFrame: native pixel data', () => {
  it('masks unsigned values to BitsStored below HighBit (bits above are overlay/garbage)', async () => {
    // 12 bits stored at HighBit 11, garbage in bits 12-15.
    const stored = [0, 1, 2047, 4095, 100, 200, 300, 400, 500, 600, 700, 800];
    const f = await decodeFrame(writeNativeDicom(base({ bitsStored: 12, pixels: stored.map((v, i) => v | ((i % 16) << 12)) })));
    expect(f.pixels).toBeInstanceOf(Uint16Array);
    expect(Array.from(f.pixels)).toEqual(stored);
    expect(f).toMatchObject({ rows: 3, columns: 4, bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 0, numberOfFrames: 1, frameIndex: 0 });
    expect(f.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
  });

  it('shifts by HighBit + 1 - BitsStored when the stored bits are not at the bottom', async () => {
    const stored = [0, 1, 2, 3, 1023, 512, 7, 8, 9, 10, 11, 12];
    const f = await decodeFrame(writeNativeDicom(base({ bitsStored: 10, highBit: 13, pixels: stored.map((v) => (v << 4) | 0b1010) })));
    expect(Array.from(f.pixels)).toEqual(stored);
  });

  it('sign-extends signed values from BitsStored (12 of 16, 8 of 8, 32 of 32)', async () => {
    // 12-bit two's complement: 0xFFF = -1, 0x800 = -2048, 0x7FF = 2047; upper bits left at zero.
    const f12 = await decodeFrame(writeNativeDicom(base({ bitsStored: 12, pixelRepresentation: 1, pixels: [0xfff, 0x800, 0x7ff, 0, 1, 0xffe, 5, 6, 7, 8, 9, 10] })));
    expect(f12.pixels).toBeInstanceOf(Int16Array);
    expect(Array.from(f12.pixels).slice(0, 6)).toEqual([-1, -2048, 2047, 0, 1, -2]);
    const f8 = await decodeFrame(writeNativeDicom(base({ bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 1, pixels: [0xff, 0x80, 0x7f, 0, 1, 2, 3, 4, 5, 6, 7, 8] })));
    expect(f8.pixels).toBeInstanceOf(Int8Array);
    expect(Array.from(f8.pixels).slice(0, 3)).toEqual([-1, -128, 127]);
    const f32 = await decodeFrame(writeNativeDicom(base({ bitsAllocated: 32, bitsStored: 32, pixelRepresentation: 1, pixels: [0xffffffff, 0x80000000, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0] })));
    expect(f32.pixels).toBeInstanceOf(Int32Array);
    expect(Array.from(f32.pixels).slice(0, 3)).toEqual([-1, -2147483648, 7]);
    const u32 = await decodeFrame(writeNativeDicom(base({ bitsAllocated: 32, bitsStored: 32, pixels: [0xffffffff, 0x80000000, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0] })));
    expect(u32.pixels).toBeInstanceOf(Uint32Array);
    expect(Array.from(u32.pixels).slice(0, 3)).toEqual([4294967295, 2147483648, 7]);
  });

  it('returns MONOCHROME1, the Modality LUT and PixelSpacing as they are', async () => {
    const f = await decodeFrame(
      writeNativeDicom(base({ photometricInterpretation: 'MONOCHROME1', rescaleSlope: 2.5, rescaleIntercept: -1024, pixelSpacing: [0.7, 0.9] })),
    );
    expect(f.photometricInterpretation).toBe('MONOCHROME1');
    expect(f.rescaleSlope).toBe(2.5);
    expect(f.rescaleIntercept).toBe(-1024);
    expect(f.pixelSpacing).toEqual([0.7, 0.9]);
    const plain = await decodeFrame(writeNativeDicom(base({})));
    expect([plain.rescaleSlope, plain.rescaleIntercept, plain.pixelSpacing]).toEqual([1, 0, undefined]);
  });

  it('finds native frames by offset', async () => {
    const n = 12;
    const pixels = Array.from({ length: 3 * n }, (_, i) => i);
    const bytes = writeNativeDicom(base({ frames: 3, pixels }));
    for (const k of [0, 1, 2]) {
      const f = await decodeFrame(bytes, k);
      expect(Array.from(f.pixels)).toEqual(pixels.slice(k * n, (k + 1) * n));
      expect([f.frameIndex, f.numberOfFrames]).toEqual([k, 3]);
    }
    const err = await rejection(decodeFrame(bytes, 3));
    expect(err.message).toMatch(/frame index 3 is outside 0\.\.2/);
  });

  it('reads the Modality LUT and spacing of each frame from the Enhanced MR functional groups', async () => {
    const pixels = Array.from({ length: 24 }, (_, i) => i);
    const bytes = writeNativeDicom(
      base({
        frames: 2,
        pixels,
        extra: {
          SOPClassUID: '1.2.840.10008.5.1.4.1.1.4.1',
          SharedFunctionalGroupsSequence: [{ PixelMeasuresSequence: [{ PixelSpacing: [0.5, 0.6], SliceThickness: 4 }] }],
          PerFrameFunctionalGroupsSequence: [
            { PixelValueTransformationSequence: [{ RescaleSlope: 1.5, RescaleIntercept: -10, RescaleType: 'US' }] },
            { PixelValueTransformationSequence: [{ RescaleSlope: 3, RescaleIntercept: 7, RescaleType: 'US' }], PixelMeasuresSequence: [{ PixelSpacing: [0.8, 0.8] }] },
          ],
        },
      }),
    );
    const f0 = await decodeFrame(bytes, 0);
    const f1 = await decodeFrame(bytes, 1);
    expect([f0.rescaleSlope, f0.rescaleIntercept, f0.pixelSpacing]).toEqual([1.5, -10, [0.5, 0.6]]);
    expect([f1.rescaleSlope, f1.rescaleIntercept, f1.pixelSpacing]).toEqual([3, 7, [0.8, 0.8]]);
    expect(Array.from(f1.pixels)).toEqual(pixels.slice(12));
  });
});

describe('decodeFrame: refusals are PixelDecodeErrors with a reason', () => {
  it('names an unsupported transfer syntax by UID and name', async () => {
    const bytes = writeEncapsulatedDicom(base({}), '1.2.840.10008.1.2.4.110', [[new Uint8Array([0xff, 0x0a, 0, 0])]]);
    const err = await rejection(decodeFrame(bytes));
    expect(err.message).toContain('1.2.840.10008.1.2.4.110 (JPEG XL Lossless)');
    expect(err.message).toContain('2.25.4242');
    expect(err.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.110');
    expect(err.sopInstanceUid).toBe('2.25.4242');
    const unknown = await rejection(decodeFrame(writeEncapsulatedDicom(base({}), '1.2.3.4.5', [[new Uint8Array(4)]])));
    expect(unknown.message).toContain('1.2.3.4.5 (unknown transfer syntax)');
    expect(DECODABLE_TRANSFER_SYNTAXES).not.toContain('1.2.840.10008.1.2.4.110');
  });

  it('refuses colour images, truncated pixel data and files that are not DICOM', async () => {
    const rgb = await rejection(decodeFrame(writeNativeDicom(base({ extra: { SamplesPerPixel: 3, PhotometricInterpretation: 'RGB' }, pixels: new Array(36).fill(0) }))));
    expect(rgb.message).toMatch(/RGB with 3 samples per pixel is not a monochrome image/);
    const full = writeNativeDicom(base({ rows: 32, columns: 32, pixels: new Array(1024).fill(7) }));
    // Cut the last 100 bytes: dcmjs reads what is there, the size check names what is missing.
    const cut = await rejection(decodeFrame(full.slice(0, full.length - 100)));
    expect(cut.message).toMatch(/native pixel data is \d+ bytes, 1 frame\(s\) of 32x32x16 bits need 2048/);
    const junk = await rejection(decodeFrame(new Uint8Array(300)));
    expect(junk.message).toMatch(/not a readable DICOM Part-10 file/);
  });

  it('refuses encapsulated data whose fragments cannot be split into frames, and corrupt codestreams', async () => {
    const img = base({});
    // Three RLE fragments for two frames and no table: RLE frames are one fragment each.
    const rle = writeEncapsulatedDicom(img, '1.2.840.10008.1.2.5', [[new Uint8Array(64)], [new Uint8Array(64), new Uint8Array(64)]]);
    expect((await rejection(decodeFrame(rle, 1))).message).toMatch(/3 fragments for 2 frames and no offset table/);
    // A JPEG-LS "codestream" that is not one.
    const bad = writeEncapsulatedDicom(img, '1.2.840.10008.1.2.4.80', [[new Uint8Array([1, 2, 3, 4, 5, 6])]]);
    expect((await rejection(decodeFrame(bad))).message).toMatch(/not a JPEG codestream/);
    // An RLE header that promises more segments than 16-bit data has.
    const seg = new Uint8Array(80);
    seg[0] = 3;
    const rle3 = writeEncapsulatedDicom(img, '1.2.840.10008.1.2.5', [[seg]]);
    expect((await rejection(decodeFrame(rle3))).message).toMatch(/RLE header has 3 segments, 2 expected/);
  });
});
