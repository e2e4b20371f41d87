import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame, PixelDecodeError, type DecodedFrame } from './index.js';
import { encodeHtj2k, encodeJ2k, syntheticImage, transcodeWithDcmtk, writeEncapsulatedDicom, writeNativeDicom, type TestImage } from './testing/index.js';

// decodeFrame against real encoders (dcmtk dcmcjpeg/dcmcjpls/dcmcrle/dcmconv, OpenJPEG
// opj_compress, OpenJPH ojph_compress) and real decoders as references for lossy data (dcmtk
// dcmdjpeg/dcmdjpls, opj_decompress, ojph_expand), then against pydicom's own test files and
// pydicom's decoded arrays.

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldh-decode-int-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function stats(got: DecodedFrame['pixels'], want: ArrayLike<number>, bits: number): { maxErr: number; psnr: number } {
  expect(got.length).toBe(want.length);
  let maxErr = 0;
  let se = 0;
  for (let i = 0; i < want.length; i++) {
    const d = (got[i] as number) - (want[i] as number);
    maxErr = Math.max(maxErr, Math.abs(d));
    se += d * d;
  }
  const peak = 2 ** bits - 1;
  return { maxErr, psnr: se === 0 ? Infinity : 10 * Math.log10((peak * peak) / (se / want.length)) };
}

/** Stored values of frame `f` as the decoder must return them (two's complement for signed). */
function frameOf(img: TestImage, f = 0): number[] {
  const n = img.rows * img.columns;
  return Array.from(img.pixels).slice(f * n, (f + 1) * n);
}

const IMAGES: Record<string, TestImage> = {
  'unsigned 12 of 16': syntheticImage({ rows: 96, columns: 80, bitsStored: 12, seed: 3 }),
  'signed 16 of 16, MONOCHROME1, Modality LUT': {
    ...syntheticImage({ rows: 64, columns: 72, bitsStored: 16, signed: true, seed: 5 }),
    photometricInterpretation: 'MONOCHROME1',
    rescaleSlope: 0.5,
    rescaleIntercept: -100,
  },
  'signed 12 of 16': syntheticImage({ rows: 64, columns: 64, bitsStored: 12, signed: true, seed: 9 }),
  'unsigned 8 of 8': syntheticImage({ rows: 64, columns: 48, bitsStored: 8, seed: 4 }),
};

describe('decodeFrame: lossless syntaxes equal the source exactly', () => {
  const dcmtk: Array<[string, string, string, string[], (img: TestImage) => boolean]> = [
    ['implicit VR LE', '1.2.840.10008.1.2', 'dcmconv', ['+ti'], () => true],
    ['explicit VR big endian', '1.2.840.10008.1.2.2', 'dcmconv', ['+tb'], () => true],
    ['deflated explicit VR LE', '1.2.840.10008.1.2.1.99', 'dcmconv', ['+td'], () => true],
    ['RLE lossless', '1.2.840.10008.1.2.5', 'dcmcrle', [], () => true],
    ['JPEG lossless process 14 (selection value 6)', '1.2.840.10008.1.2.4.57', 'dcmcjpeg', ['+el'], () => true],
    ['JPEG lossless process 14 (selection value 3)', '1.2.840.10008.1.2.4.57', 'dcmcjpeg', ['+el', '+sv', '3'], () => true],
    ['JPEG lossless SV1', '1.2.840.10008.1.2.4.70', 'dcmcjpeg', ['+e1'], () => true],
    ['JPEG-LS lossless', '1.2.840.10008.1.2.4.80', 'dcmcjpls', ['+el'], () => true],
  ];
  for (const [imgName, img] of Object.entries(IMAGES)) {
    for (const [name, ts, tool, args, applies] of dcmtk) {
      if (!applies(img)) continue;
      it(`${name} (${tool} ${args.join(' ')}), ${imgName}`, async () => {
        const bytes = await transcodeWithDcmtk(writeNativeDicom(img), tool, args);
        const f = await decodeFrame(bytes);
        expect(f.transferSyntaxUid).toBe(ts);
        expect(stats(f.pixels, frameOf(img), img.bitsStored).maxErr).toBe(0);
        expect(f.pixelRepresentation).toBe(img.pixelRepresentation);
        expect([f.photometricInterpretation, f.rescaleSlope, f.rescaleIntercept]).toEqual([img.photometricInterpretation ?? 'MONOCHROME2', img.rescaleSlope ?? 1, img.rescaleIntercept ?? 0]);
      });
    }
    it(`JPEG 2000 lossless (opj_compress), ${imgName}`, async () => {
      const f = await decodeFrame(writeEncapsulatedDicom(img, '1.2.840.10008.1.2.4.90', [[await encodeJ2k(img)]]));
      expect(stats(f.pixels, frameOf(img), img.bitsStored).maxErr).toBe(0);
    });
    if (img.pixelRepresentation === 0) {
      it(`HTJ2K lossless (ojph_compress), ${imgName}`, async () => {
        for (const ts of ['1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202']) {
          const f = await decodeFrame(writeEncapsulatedDicom(img, ts, [[await encodeHtj2k(img)]]));
          expect(stats(f.pixels, frameOf(img), img.bitsStored).maxErr).toBe(0);
        }
      });
    }
  }

  it('signed HTJ2K is refused with the reason (the OpenJPH wasm decoder saturates negative samples)', async () => {
    const img = IMAGES['signed 16 of 16, MONOCHROME1, Modality LUT'] as TestImage;
    const err = await decodeFrame(writeEncapsulatedDicom(img, '1.2.840.10008.1.2.4.201', [[await encodeHtj2k(img)]])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PixelDecodeError);
    expect((err as Error).message).toMatch(/signed HTJ2K samples are not decodable here/);
  });
});

describe('decodeFrame: lossy syntaxes stay within the stated tolerance', () => {
  const img12 = IMAGES['unsigned 12 of 16'] as TestImage;
  const img8 = IMAGES['unsigned 8 of 8'] as TestImage;
  const signed = IMAGES['signed 16 of 16, MONOCHROME1, Modality LUT'] as TestImage;

  /** dcmtk's own decoder (dcmdjpeg / dcmdjpls) as the reference for its lossy encodings. */
  async function dcmtkDecoded(bytes: Uint8Array, tool: string): Promise<DecodedFrame> {
    return decodeFrame(await transcodeWithDcmtk(bytes, tool, []));
  }

  it('JPEG-LS near-lossless: max |error| <= NEAR, and equal to dcmdjpls (dcmcjpls refuses signed data here)', async () => {
    for (const [img, near] of [[img12, 3], [img8, 1]] as const) {
      const bytes = await transcodeWithDcmtk(writeNativeDicom(img), 'dcmcjpls', ['+en', '--max-deviation', String(near)]);
      const f = await decodeFrame(bytes);
      expect(f.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.81');
      const s = stats(f.pixels, frameOf(img), img.bitsStored);
      expect(s.maxErr).toBeLessThanOrEqual(near);
      expect(s.maxErr).toBeGreaterThan(0); // it really was lossy
      expect(stats(f.pixels, (await dcmtkDecoded(bytes, 'dcmdjpls')).pixels, img.bitsStored).maxErr).toBe(0);
    }
  });

  it('JPEG baseline 8-bit (dcmcjpeg +eb): PSNR >= 35 dB, within 1 of dcmdjpeg', async () => {
    const bytes = await transcodeWithDcmtk(writeNativeDicom(img8), 'dcmcjpeg', ['+eb']);
    const f = await decodeFrame(bytes);
    expect(f.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.50');
    expect(stats(f.pixels, frameOf(img8), 8).psnr).toBeGreaterThanOrEqual(35);
    expect(stats(f.pixels, (await dcmtkDecoded(bytes, 'dcmdjpeg')).pixels, 8).maxErr).toBeLessThanOrEqual(1);
  });

  it('JPEG extended 12-bit (dcmcjpeg +ee): PSNR >= 50 dB, within 1 of dcmdjpeg; 8-bit extended too', async () => {
    for (const img of [img12, img8]) {
      const bytes = await transcodeWithDcmtk(writeNativeDicom(img), 'dcmcjpeg', ['+ee']);
      const f = await decodeFrame(bytes);
      expect(f.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.51');
      expect(stats(f.pixels, frameOf(img), img.bitsStored).psnr).toBeGreaterThanOrEqual(img.bitsStored === 12 ? 50 : 35);
      expect(stats(f.pixels, (await dcmtkDecoded(bytes, 'dcmdjpeg')).pixels, img.bitsStored).maxErr).toBeLessThanOrEqual(1);
    }
  });

  it('JPEG 2000 irreversible at 10:1 (opj_compress -I -r 10): PSNR >= 35 dB, within 1 of opj_decompress', async () => {
    for (const img of [img12, signed]) {
      const stream = await encodeJ2k(img, 0, 10);
      const f = await decodeFrame(writeEncapsulatedDicom(img, '1.2.840.10008.1.2.4.91', [[stream]]));
      const s = stats(f.pixels, frameOf(img), img.bitsStored);
      expect(s.psnr).toBeGreaterThanOrEqual(35);
      expect(s.maxErr).toBeGreaterThan(0);
      // OpenJPEG's command-line decoder on the same codestream.
      const j2k = join(dir, 'lossy.j2k');
      const raw = join(dir, 'lossy.rawl');
      await writeFile(j2k, stream);
      await run('opj_decompress', ['-i', j2k, '-o', raw]);
      const ref = new Uint8Array(await readFile(raw));
      const view = new DataView(ref.buffer, ref.byteOffset, ref.byteLength);
      const want = Array.from({ length: img.rows * img.columns }, (_, i) => (img.pixelRepresentation ? view.getInt16(2 * i, true) : view.getUint16(2 * i, true)));
      expect(stats(f.pixels, want, img.bitsStored).maxErr).toBeLessThanOrEqual(1);
    }
  });

  it('HTJ2K irreversible (ojph_compress -qstep 0.001): PSNR >= 55 dB, within 1 of ojph_expand (Debian OpenJPH 0.9 vs the wasm build)', async () => {
    const stream = await encodeHtj2k(img12, 0, 0.001);
    const f = await decodeFrame(writeEncapsulatedDicom(img12, '1.2.840.10008.1.2.4.203', [[stream]]));
    expect(stats(f.pixels, frameOf(img12), 12).psnr).toBeGreaterThanOrEqual(55);
    const j2c = join(dir, 'lossy.j2c');
    const yuv = join(dir, 'lossy.yuv');
    await writeFile(j2c, stream);
    await run('ojph_expand', ['-i', j2c, '-o', yuv]);
    const ref = new Uint8Array(await readFile(yuv));
    const view = new DataView(ref.buffer, ref.byteOffset, ref.byteLength);
    expect(stats(f.pixels, Array.from({ length: img12.rows * img12.columns }, (_, i) => view.getUint16(2 * i, true)), 12).maxErr).toBeLessThanOrEqual(1);
  });
});

describe('decodeFrame: multi-frame', () => {
  const img = syntheticImage({ rows: 48, columns: 40, bitsStored: 12, frames: 3, seed: 21 });

  it('dcmtk multi-frame files: fragments of several KiB with and without a Basic Offset Table, RLE, big endian', async () => {
    const native = writeNativeDicom(img);
    const variants: Array<[string, string[]]> = [
      ['dcmcjpeg', ['+el', '+fs', '1']], // ~1 KiB fragments, BOT present
      ['dcmcjpeg', ['+e1', '+fs', '1', '-ot']], // no BOT: frames found by their SOI markers
      ['dcmcjpls', ['+el', '+fs', '1', '-ot']],
      ['dcmcjpls', ['+el']], // one fragment per frame, BOT present
      ['dcmcrle', ['-ot']], // one fragment per frame, no BOT
      ['dcmconv', ['+tb']],
    ];
    for (const [tool, args] of variants) {
      const bytes = await transcodeWithDcmtk(native, tool, args);
      for (const k of [2, 0, 1]) {
        const f = await decodeFrame(bytes, k);
        expect(f.numberOfFrames).toBe(3);
        expect(stats(f.pixels, frameOf(img, k), 12).maxErr, `${tool} ${args.join(' ')} frame ${k}`).toBe(0);
      }
    }
  });

  it('JPEG 2000 frames by Basic Offset Table, Extended Offset Table, one fragment each, or SOC markers', async () => {
    const streams = [await encodeJ2k(img, 0), await encodeJ2k(img, 1), await encodeJ2k(img, 2)];
    // Each codestream cut into three fragments (even lengths, as items need).
    const split = (s: Uint8Array): Uint8Array[] => {
      const a = 2 * Math.floor(s.length / 6);
      return [s.subarray(0, a), s.subarray(a, 2 * a), s.subarray(2 * a)];
    };
    const cases: Array<[string, Uint8Array]> = [
      ['BOT, fragmented', writeEncapsulatedDicom(img, '1.2.840.10008.1.2.4.90', streams.map(split), 'basic')],
      ['EOT, fragmented', writeEncapsulatedDicom(img, '1.2.840.10008.1.2.4.90', streams.map(split), 'extended')],
      ['no table, one fragment per frame', writeEncapsulatedDicom(img, '1.2.840.10008.1.2.4.90', streams.map((s) => [s]), 'none')],
      ['no table, fragmented (SOC markers)', writeEncapsulatedDicom(img, '1.2.840.10008.1.2.4.90', streams.map(split), 'none')],
    ];
    for (const [name, bytes] of cases) {
      for (const k of [1, 2, 0]) {
        const f = await decodeFrame(bytes, k);
        expect(stats(f.pixels, frameOf(img, k), 12).maxErr, `${name} frame ${k}`).toBe(0);
      }
    }
  });

  it('a codestream cut short, or one whose size disagrees with Rows/Columns, is a PixelDecodeError naming the transfer syntax', async () => {
    const img = IMAGES['unsigned 12 of 16'] as TestImage;
    const jls = await transcodeWithDcmtk(writeNativeDicom(img), 'dcmcjpls', ['+el']);
    const jlsStream = (await import('./dataset.js')).readPixelDataset(jls).pixelData;
    if (jlsStream.kind !== 'encapsulated') throw new Error('dcmcjpls wrote native data');
    const half = (s: Uint8Array): Uint8Array => s.subarray(0, 2 * Math.floor(s.length / 4));
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['1.2.840.10008.1.2.4.80', half(jlsStream.items[0] as Uint8Array), /no EOI marker at its end: it was cut short/],
      ['1.2.840.10008.1.2.4.90', half(await encodeJ2k(img)), /the JPEG 2000 codestream has no EOC marker at its end: it was cut short/],
      ['1.2.840.10008.1.2.4.201', half(await encodeHtj2k(img)), /the HTJ2K codestream has no EOC marker at its end: it was cut short/],
    ];
    for (const [ts, stream, reason] of cases) {
      const err = await decodeFrame(writeEncapsulatedDicom(img, ts, [[stream]])).catch((e: unknown) => e);
      expect(err, ts).toBeInstanceOf(PixelDecodeError);
      expect((err as PixelDecodeError).transferSyntaxUid).toBe(ts);
      expect((err as Error).message).toContain(`${ts} (`);
      expect((err as Error).message, (err as Error).message).toMatch(reason);
    }
    // The JPEG 2000 stream of a 96x80 image in a file that says 48x40.
    const small = { ...img, rows: 48, columns: 40 };
    const err = await decodeFrame(writeEncapsulatedDicom(small, '1.2.840.10008.1.2.4.90', [[await encodeJ2k(img)]])).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/the JPEG 2000 SIZ header says 80x96 with 1 component\(s\); the dataset says 40x48/);
  });
});
