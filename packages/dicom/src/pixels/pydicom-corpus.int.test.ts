import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame, PixelDecodeError } from './index.js';
import { transcodeWithDcmtk } from './testing/index.js';

// pydicom's test corpus (Debian python3-pydicom): files nobody here wrote, in many transfer
// syntaxes. Each is decoded by decodeFrame and compared with pydicom 2.3's own pixel_array
// (numpy, RLE and Pillow handlers) — or, where pydicom cannot decode it here, with its lossless
// twin in the corpus (JPEG-LS) or with dcmtk's dcmdjpeg (12-bit JPEG).

const run = promisify(execFile);
const PY = '/usr/bin/python3';
let corpus: string;
let out: string;
let manifest: Record<string, { ok: boolean; shape?: number[]; error?: string; slope?: number; intercept?: number; spacing?: number[] | null }>;

// Writes each decodable file's pixel_array as little-endian int64 and a manifest of shapes,
// Modality LUT and pixel spacing (top level, else the shared Pixel Measures Sequence).
const SCRIPT = `
import json, os, sys, warnings
warnings.simplefilter('ignore')
import numpy, pydicom
corpus, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
manifest = {}
for name in names:
    try:
        ds = pydicom.dcmread(os.path.join(corpus, name))
        a = ds.pixel_array
        a.astype('<i8').tofile(os.path.join(out, name + '.i64'))
        sp = ds.get('PixelSpacing')
        if sp is None and 'SharedFunctionalGroupsSequence' in ds:
            pm = ds.SharedFunctionalGroupsSequence[0].get('PixelMeasuresSequence')
            sp = pm[0].get('PixelSpacing') if pm else None
        manifest[name] = {'ok': True, 'shape': list(a.shape), 'slope': float(ds.get('RescaleSlope', 1)), 'intercept': float(ds.get('RescaleIntercept', 0)), 'spacing': [float(x) for x in sp] if sp else None}
    except Exception as e:
        manifest[name] = {'ok': False, 'error': str(e)[:200]}
print(json.dumps(manifest))
`;

/** Files pydicom decodes here (numpy, RLE, Pillow handlers), across transfer syntaxes. */
const PYDICOM_DECODED: Record<string, string> = {
  'MR_small.dcm': '1.2.840.10008.1.2.1',
  'MR_small_implicit.dcm': '1.2.840.10008.1.2',
  'MR_small_bigendian.dcm': '1.2.840.10008.1.2.2',
  'MR_small_expb.dcm': '1.2.840.10008.1.2.2',
  'MR_small_padded.dcm': '1.2.840.10008.1.2.1',
  'MR_small_RLE.dcm': '1.2.840.10008.1.2.5',
  'MR_small_jp2klossless.dcm': '1.2.840.10008.1.2.4.90',
  'CT_small.dcm': '1.2.840.10008.1.2.1',
  'JPEG2000.dcm': '1.2.840.10008.1.2.4.91',
  '693_J2KI.dcm': '1.2.840.10008.1.2.4.91',
  'J2K_pixelrep_mismatch.dcm': '1.2.840.10008.1.2.4.90',
  'image_dfl.dcm': '1.2.840.10008.1.2.1.99',
  'rtdose.dcm': '1.2.840.10008.1.2',
  'rtdose_expb.dcm': '1.2.840.10008.1.2.2',
  'rtdose_rle.dcm': '1.2.840.10008.1.2.5',
  'rtdose_1frame.dcm': '1.2.840.10008.1.2',
  'rtdose_rle_1frame.dcm': '1.2.840.10008.1.2.5',
  'liver_1frame.dcm': '1.2.840.10008.1.2.1',
  'liver_expb_1frame.dcm': '1.2.840.10008.1.2.2',
};

beforeAll(async () => {
  const { stdout } = await run('dpkg', ['-L', 'python3-pydicom']);
  const dir = stdout.split('\n').find((l) => l.endsWith('/test_files'));
  if (!dir) throw new Error('python3-pydicom test_files not found (apt-get install python3-pydicom)');
  corpus = dir;
  out = await mkdtemp(join(tmpdir(), 'ldh-pydicom-'));
  const res = await run(PY, ['-c', SCRIPT, corpus, out, ...Object.keys(PYDICOM_DECODED)], { maxBuffer: 1 << 20 });
  manifest = JSON.parse(res.stdout) as typeof manifest;
});
afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

async function pydicomArray(name: string): Promise<BigInt64Array> {
  const b = await readFile(join(out, `${name}.i64`));
  return new BigInt64Array(b.buffer, b.byteOffset, b.byteLength / 8);
}
const file = async (name: string): Promise<Uint8Array> => new Uint8Array(await readFile(join(corpus, name)));

describe('decodeFrame vs pydicom on pydicom test files', () => {
  for (const [name, ts] of Object.entries(PYDICOM_DECODED)) {
    it(`${name} (${ts}) equals pydicom's pixel_array, every frame`, async () => {
      const m = manifest[name];
      expect(m?.ok, `pydicom could not decode ${name}: ${m?.error}`).toBe(true);
      const want = await pydicomArray(name);
      const bytes = await file(name);
      const first = await decodeFrame(bytes);
      expect(first.transferSyntaxUid).toBe(ts);
      const frames = first.numberOfFrames;
      const n = first.rows * first.columns;
      expect(want.length).toBe(frames * n);
      for (let k = 0; k < frames; k++) {
        const f = k === 0 ? first : await decodeFrame(bytes, k);
        let mismatches = 0;
        for (let i = 0; i < n; i++) if (BigInt(f.pixels[i] as number) !== want[k * n + i]) mismatches++;
        expect(mismatches, `${name} frame ${k}`).toBe(0);
      }
      expect(first.rescaleSlope).toBe(m?.slope);
      expect(first.rescaleIntercept).toBe(m?.intercept);
      expect(first.pixelSpacing ?? null).toEqual(m?.spacing ?? null);
    });
  }

  it('MR_small_jpeg_ls_lossless.dcm (JPEG-LS, which pydicom cannot decode here) equals its native twin MR_small.dcm', async () => {
    const f = await decodeFrame(await file('MR_small_jpeg_ls_lossless.dcm'));
    expect(f.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.80');
    expect(Array.from(f.pixels)).toEqual(Array.from(await pydicomArray('MR_small.dcm'), Number));
  });

  it('JPGExtended.dcm and JPEG-lossy.dcm (12-bit JPEG extended) equal dcmtk dcmdjpeg\'s decoding', async () => {
    for (const name of ['JPGExtended.dcm', 'JPEG-lossy.dcm']) {
      const bytes = await file(name);
      const f = await decodeFrame(bytes);
      expect(f.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.51');
      expect(f.bitsStored).toBe(12);
      const ref = await decodeFrame(await transcodeWithDcmtk(bytes, 'dcmdjpeg', []));
      let maxErr = 0;
      for (let i = 0; i < ref.pixels.length; i++) maxErr = Math.max(maxErr, Math.abs((f.pixels[i] as number) - (ref.pixels[i] as number)));
      expect(maxErr, name).toBeLessThanOrEqual(1);
    }
  });

  it('refuses colour, truncated and meta-less files with a PixelDecodeError naming the problem', async () => {
    const cases: Array<[string, RegExp]> = [
      ['SC_rgb_rle.dcm', /RGB with 3 samples per pixel is not a monochrome image/],
      ['SC_rgb_jpeg_dcmtk.dcm', /YBR_FULL with 3 samples per pixel/],
      ['MR_truncated.dcm', /pixel data is 8130 bytes/],
      ['no_meta.dcm', /not a readable DICOM Part-10 file/],
    ];
    for (const [name, pattern] of cases) {
      const err = await decodeFrame(await file(name)).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(PixelDecodeError);
      expect((err as Error).message, name).toMatch(pattern);
    }
  });
});
