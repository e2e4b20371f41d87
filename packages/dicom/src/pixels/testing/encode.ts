/**
 * Test and benchmark inputs for pixel decoding, made by real encoders: a native Part-10 file is
 * written with dcmjs, then transcoded by dcmtk (dcmcjpeg, dcmcjpls, dcmcrle, dcmconv), or its
 * pixels are compressed by OpenJPEG's opj_compress / OpenJPH's ojph_compress and wrapped here
 * in encapsulated pixel data (with a Basic, Extended or no offset table). Needs those tools on
 * PATH (Debian: dcmtk, libopenjp2-tools, openjph-tools).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const dcmjs = require('dcmjs') as {
  data: {
    DicomDict: new (meta: Record<string, unknown>) => { dict: Record<string, unknown>; write(opts?: Record<string, unknown>): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(ds: Record<string, unknown>): Record<string, unknown> };
  };
};

export const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** A monochrome image (all frames) and the attributes to write with it. */
export interface TestImage {
  rows: number;
  columns: number;
  frames?: number;
  bitsAllocated: 8 | 16 | 32;
  bitsStored: number;
  highBit?: number;
  pixelRepresentation: 0 | 1;
  photometricInterpretation?: 'MONOCHROME1' | 'MONOCHROME2';
  rescaleSlope?: number;
  rescaleIntercept?: number;
  pixelSpacing?: [number, number];
  /** Stored values of every frame, frame after frame (bits above HighBit are written as given). */
  pixels: ArrayLike<number>;
  sopInstanceUid?: string;
  /** Extra top-level attributes (dcmjs naturalised names), e.g. functional group sequences. */
  extra?: Record<string, unknown>;
}

const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';

function dataset(img: TestImage, withPixels: boolean): { meta: Record<string, unknown>; dict: Record<string, unknown> } {
  const sop = img.sopInstanceUid ?? '2.25.1000000000000000000000000001';
  const frames = img.frames ?? 1;
  const ds: Record<string, unknown> = {
    SOPClassUID: img.extra?.['SOPClassUID'] ?? MR_IMAGE_STORAGE,
    SOPInstanceUID: sop,
    StudyInstanceUID: '2.25.1000000000000000000000000002',
    SeriesInstanceUID: '2.25.1000000000000000000000000003',
    Modality: 'MR',
    InstanceNumber: '1',
    SamplesPerPixel: 1,
    PhotometricInterpretation: img.photometricInterpretation ?? 'MONOCHROME2',
    Rows: img.rows,
    Columns: img.columns,
    BitsAllocated: img.bitsAllocated,
    BitsStored: img.bitsStored,
    HighBit: img.highBit ?? img.bitsStored - 1,
    PixelRepresentation: img.pixelRepresentation,
    ...img.extra,
  };
  if (frames > 1) ds['NumberOfFrames'] = String(frames);
  if (img.pixelSpacing) ds['PixelSpacing'] = img.pixelSpacing;
  if (img.rescaleSlope !== undefined) ds['RescaleSlope'] = String(img.rescaleSlope);
  if (img.rescaleIntercept !== undefined) ds['RescaleIntercept'] = String(img.rescaleIntercept);
  if (withPixels) {
    const n = img.rows * img.columns * frames;
    const T = img.bitsAllocated === 8 ? Uint8Array : img.bitsAllocated === 16 ? Uint16Array : Uint32Array;
    const px = new T(n);
    for (let i = 0; i < n; i++) px[i] = img.pixels[i] as number; // two's complement wraps into the unsigned array
    ds['PixelData'] = px.buffer;
    ds['_vrMap'] = { PixelData: img.bitsAllocated === 8 ? 'OB' : 'OW' };
  }
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: ds['SOPClassUID'],
    MediaStorageSOPInstanceUID: sop,
    TransferSyntaxUID: EXPLICIT_LE,
    ImplementationClassUID: '1.2.826.0.1.3680043.10.854',
  };
  return { meta, dict: ds };
}

/** The image as an explicit VR little endian Part-10 file. */
export function writeNativeDicom(img: TestImage): Uint8Array {
  const { meta, dict } = dataset(img, true);
  const d = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  d.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dict);
  return new Uint8Array(d.write());
}

/** Where each frame starts in the encapsulated pixel data: a Basic Offset Table, an Extended one, or none. */
export type OffsetTable = 'basic' | 'extended' | 'none';

function element(group: number, elem: number, vr: string, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + value.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, group, true);
  v.setUint16(2, elem, true);
  out[4] = vr.charCodeAt(0);
  out[5] = vr.charCodeAt(1);
  v.setUint32(8, value.length, true);
  out.set(value, 12);
  return out;
}

function itemBytes(data: Uint8Array): Uint8Array {
  const even = data.length % 2 === 0 ? data : Uint8Array.from([...data, 0]);
  const out = new Uint8Array(8 + even.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xfffe, true);
  v.setUint16(2, 0xe000, true);
  v.setUint32(4, even.length, true);
  out.set(even, 8);
  return out;
}

/**
 * A Part-10 file whose pixel data is encapsulated: `frames[f]` are the fragments of frame f,
 * each an item; the header comes from `img` (its pixels are not used).
 */
export function writeEncapsulatedDicom(img: TestImage, transferSyntaxUid: string, frames: Uint8Array[][], table: OffsetTable = 'none'): Uint8Array {
  const { meta, dict } = dataset({ ...img, frames: frames.length }, false);
  meta['TransferSyntaxUID'] = transferSyntaxUid;
  const d = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  d.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dict);
  const header = new Uint8Array(d.write());
  const items = frames.map((frags) => frags.map(itemBytes));
  const offsets: number[] = [];
  let pos = 0;
  for (const f of items) {
    offsets.push(pos);
    pos += f.reduce((n, it) => n + it.length, 0);
  }
  const parts: Uint8Array[] = [header];
  if (table === 'extended') {
    const eot = new Uint8Array(8 * frames.length);
    const eotLengths = new Uint8Array(8 * frames.length);
    const v = new DataView(eot.buffer);
    const vl = new DataView(eotLengths.buffer);
    frames.forEach((frags, i) => {
      v.setBigUint64(8 * i, BigInt(offsets[i] as number), true);
      vl.setBigUint64(8 * i, BigInt(frags.reduce((n, x) => n + x.length, 0)), true);
    });
    parts.push(element(0x7fe0, 0x0001, 'OV', eot), element(0x7fe0, 0x0002, 'OV', eotLengths));
  }
  const bot = new Uint8Array(table === 'basic' ? 4 * frames.length : 0);
  if (table === 'basic') offsets.forEach((o, i) => new DataView(bot.buffer).setUint32(4 * i, o, true));
  const pixelHead = new Uint8Array(12);
  const ph = new DataView(pixelHead.buffer);
  ph.setUint16(0, 0x7fe0, true);
  ph.setUint16(2, 0x0010, true);
  pixelHead[4] = 0x4f; // 'O'
  pixelHead[5] = 0x42; // 'B'
  ph.setUint32(8, 0xffffffff, true);
  parts.push(pixelHead, itemBytes(bot), ...items.flat());
  const end = new Uint8Array(8);
  new DataView(end.buffer).setUint16(0, 0xfffe, true);
  new DataView(end.buffer).setUint16(2, 0xe0dd, true);
  parts.push(end);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'ldh-pixels-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs a dcmtk transcoder (`dcmcjpeg +el`, `dcmcjpls +en --max-deviation 3`, `dcmconv +tb`, ...) on a Part-10 file. */
export function transcodeWithDcmtk(bytes: Uint8Array, tool: string, args: readonly string[]): Promise<Uint8Array> {
  return withTemp(async (dir) => {
    const src = join(dir, 'in.dcm');
    const dst = join(dir, 'out.dcm');
    await writeFile(src, bytes);
    await run(tool, [...args, src, dst]);
    return new Uint8Array(await readFile(dst));
  });
}

/** Raw little-endian samples of frame `f` for opj_compress / ojph_compress (1 byte up to 8 bits stored, else 2). */
function rawFrame(img: TestImage, f: number): Uint8Array {
  const n = img.rows * img.columns;
  const bytesPer = img.bitsStored <= 8 ? 1 : 2;
  const out = new Uint8Array(n * bytesPer);
  const v = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const x = img.pixels[f * n + i] as number;
    if (bytesPer === 1) out[i] = x & 0xff;
    else v.setUint16(2 * i, x & 0xffff, true);
  }
  return out;
}

/**
 * JPEG 2000 codestream of frame `f` by OpenJPEG's opj_compress: reversible 5/3 when `ratio` is
 * undefined, else irreversible 9/7 at that compression ratio.
 */
export function encodeJ2k(img: TestImage, f = 0, ratio?: number): Promise<Uint8Array> {
  return withTemp(async (dir) => {
    const src = join(dir, 'in.rawl'); // .rawl: little endian
    const dst = join(dir, 'out.j2k');
    await writeFile(src, rawFrame(img, f));
    const fmt = `${img.columns},${img.rows},1,${img.bitsStored},${img.pixelRepresentation === 1 ? 's' : 'u'}@1x1`;
    const args = ['-i', src, '-o', dst, '-F', fmt];
    if (ratio !== undefined) args.push('-I', '-r', String(ratio));
    await run('opj_compress', args);
    return new Uint8Array(await readFile(dst));
  });
}

/** HTJ2K codestream of frame `f` by OpenJPH's ojph_compress: reversible, or irreversible at quantisation step `qstep`. */
export function encodeHtj2k(img: TestImage, f = 0, qstep?: number): Promise<Uint8Array> {
  return withTemp(async (dir) => {
    const src = join(dir, 'in.yuv');
    const dst = join(dir, 'out.j2c');
    await writeFile(src, rawFrame(img, f));
    const args = ['-i', src, '-o', dst, '-dims', `{${img.columns},${img.rows}}`, '-num_comps', '1', '-signed', img.pixelRepresentation === 1 ? 'true' : 'false', '-bit_depth', String(img.bitsStored), '-downsamp', '{1,1}'];
    args.push('-reversible', qstep === undefined ? 'true' : 'false');
    if (qstep !== undefined) args.push('-qstep', String(qstep));
    await run('ojph_compress', args);
    return new Uint8Array(await readFile(dst));
  });
}
