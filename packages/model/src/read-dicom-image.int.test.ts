import { decodeFrame, PixelDecodeError, pixelTesting } from '@ldh/dicom';
import { generateStudy } from '@ldh/phantom';
import { describe, expect, it } from 'vitest';
import { ModelInputError } from './errors.js';
import { preprocessImage, readDicomImage, type InputContract } from './preprocess.js';

// readDicomImage on a phantom slice stored in compressed transfer syntaxes by real encoders
// (dcmtk, OpenJPEG): the model input must not depend on how the PACS stored the image.

const contract: InputContract = {
  contract: 'ldh-input-v1',
  size: 64,
  windowing: { method: 'percentile', lowPercentile: 0.5, highPercentile: 99.5 },
  normalisation: { mean: 0.5, std: 0.25 },
  resize: 'triangle-antialias-halfpixel',
  sliceSelection: { sagittalCentralSlices: 3, axialMaxSlices: 15 },
};

describe('readDicomImage over @ldh/dicom decodeFrame', () => {
  const study = generateStudy({ seed: 5, matrix: 128 });
  const slice = study.instances.find((i) => i.role === 't2_sag') ?? study.instances[0];
  if (!slice) throw new Error('phantom study has no instances');

  it('gives the same pixels, geometry and model input for lossless JPEG, JPEG-LS, RLE and JPEG 2000 as for the native file', async () => {
    const native = await readDicomImage(slice.bytes);
    expect([native.frameIndex, native.numberOfFrames]).toEqual([0, 1]);
    const tensor = await preprocessImage(native, contract);
    const src = await decodeFrame(slice.bytes);
    const img = { rows: src.rows, columns: src.columns, bitsAllocated: 16 as const, bitsStored: src.bitsStored, pixelRepresentation: 0 as const, pixels: src.pixels };
    const encoded: Array<[string, Uint8Array]> = [
      ['1.2.840.10008.1.2.4.70', await pixelTesting.transcodeWithDcmtk(slice.bytes, 'dcmcjpeg', ['+e1'])],
      ['1.2.840.10008.1.2.4.80', await pixelTesting.transcodeWithDcmtk(slice.bytes, 'dcmcjpls', ['+el'])],
      ['1.2.840.10008.1.2.5', await pixelTesting.transcodeWithDcmtk(slice.bytes, 'dcmcrle', [])],
      ['1.2.840.10008.1.2.2', await pixelTesting.transcodeWithDcmtk(slice.bytes, 'dcmconv', ['+tb'])],
    ];
    for (const [ts, bytes] of encoded) {
      const got = await readDicomImage(bytes);
      expect(got.transferSyntaxUid).toBe(ts);
      expect(Array.from(got.pixels)).toEqual(Array.from(native.pixels));
      expect([got.sopInstanceUid, got.imagePositionPatient, got.imageOrientationPatient, got.pixelSpacing]).toEqual([
        native.sopInstanceUid,
        native.imagePositionPatient,
        native.imageOrientationPatient,
        native.pixelSpacing,
      ]);
      expect(Array.from(await preprocessImage(got, contract))).toEqual(Array.from(tensor));
    }
    // JPEG 2000 from opj_compress, wrapped here (its header carries no geometry): pixels only.
    const j2k = pixelTesting.writeEncapsulatedDicom(img, '1.2.840.10008.1.2.4.90', [[await pixelTesting.encodeJ2k(img)]]);
    expect(Array.from((await readDicomImage(j2k)).pixels)).toEqual(Array.from(native.pixels));
  });

  it('an undecodable transfer syntax is a ModelInputError naming the UID and its name, caused by a PixelDecodeError', async () => {
    const img = { rows: 4, columns: 4, bitsAllocated: 16 as const, bitsStored: 12, pixelRepresentation: 0 as const, pixels: new Array<number>(16).fill(0), sopInstanceUid: '2.25.777' };
    const bytes = pixelTesting.writeEncapsulatedDicom(img, '1.2.840.10008.1.2.4.112', [[new Uint8Array([0xff, 0x0a])]]);
    const err = await readDicomImage(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelInputError);
    expect((err as Error).message).toContain('2.25.777');
    expect((err as Error).message).toContain('1.2.840.10008.1.2.4.112 (JPEG XL)');
    expect((err as Error).cause).toBeInstanceOf(PixelDecodeError);
  });

  it('reads frame k of an Enhanced MR file with that frame\'s position, orientation, spacing and Modality LUT', async () => {
    const img = pixelTesting.syntheticImage({ rows: 8, columns: 6, bitsStored: 12, frames: 2, seed: 2 });
    const frameGroup = (z: number, slope: number) => ({
      PlanePositionSequence: [{ ImagePositionPatient: [0, 0, z] }],
      PixelValueTransformationSequence: [{ RescaleSlope: slope, RescaleIntercept: 0, RescaleType: 'US' }],
    });
    const bytes = pixelTesting.writeNativeDicom({
      ...img,
      sopInstanceUid: '2.25.888',
      extra: {
        SOPClassUID: '1.2.840.10008.5.1.4.1.1.4.1',
        SharedFunctionalGroupsSequence: [{ PlaneOrientationSequence: [{ ImageOrientationPatient: [1, 0, 0, 0, 1, 0] }], PixelMeasuresSequence: [{ PixelSpacing: [0.9, 0.8] }] }],
        PerFrameFunctionalGroupsSequence: [frameGroup(-5, 1), frameGroup(5, 2)],
      },
    });
    const f1 = await readDicomImage(bytes, { frame: 1 });
    expect([f1.frameIndex, f1.numberOfFrames, f1.rescaleSlope]).toEqual([1, 2, 2]);
    expect(f1.imagePositionPatient).toEqual([0, 0, 5]);
    expect(f1.imageOrientationPatient).toEqual([1, 0, 0, 0, 1, 0]);
    expect(f1.pixelSpacing).toEqual([0.9, 0.8]);
    expect(Array.from(f1.pixels)).toEqual(Array.from(img.pixels).slice(48));
    expect((await readDicomImage(bytes, { frame: 0 })).imagePositionPatient).toEqual([0, 0, -5]);
    await expect(readDicomImage(bytes, { frame: 2 })).rejects.toThrow(/frame index 2 is outside 0\.\.1/);
  });
});
