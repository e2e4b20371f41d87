/**
 * decodeFrame: one frame of a Part-10 file, any transfer syntax the SCP stores, as stored
 * values (before the Modality LUT) plus the attributes that turn them into an image. The pixel
 * type follows BitsAllocated and PixelRepresentation; values are masked to BitsStored (shifted
 * down by HighBit + 1 − BitsStored for native data) and sign-extended when signed.
 */
import { decodeHtj2k, decodeJpeg2000, decodeJpeg8, decodeJpegLossless, decodeJpegLs, decodeWithDcmjsCodecs, type CodecOutput, type CodecSet } from './codecs.js';
import { readPixelDataset, type PixelDataset } from './dataset.js';
import { PixelDecodeError } from './errors.js';
import { encapsulatedFrames, joinFragments, nativeFrameBytes } from './frames.js';
import { describeJpegFrame, readJ2kSize, readJpegFrameHeader } from './jpeg-markers.js';
import { decodeRleFrame } from './rle.js';
import { describeTransferSyntax, pixelEncodingOf, DECODABLE_TRANSFER_SYNTAXES, type PixelEncoding } from './transfer-syntax.js';

/** One decoded frame and the attributes needed to interpret it. */
export interface DecodedFrame {
  /** Stored values, row-major; sign-extended from BitsStored when signed, masked to BitsStored when unsigned. */
  pixels: Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Uint32Array;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: 0 | 1;
  /** MONOCHROME1 or MONOCHROME2 (other interpretations are refused). */
  photometricInterpretation: string;
  /** Modality LUT; for multi-frame images from the per-frame or shared Pixel Value Transformation Sequence. */
  rescaleSlope: number;
  rescaleIntercept: number;
  /** (0028,0030) [row, column] mm, or the per-frame/shared Pixel Measures Sequence for multi-frame images. */
  pixelSpacing?: [number, number];
  numberOfFrames: number;
  /** 0-based. */
  frameIndex: number;
  transferSyntaxUid: string;
}

/** Options of {@link decodeFrame}. */
export interface DecodeFrameOptions {
  /** Codec implementation (default `cornerstone`); `dcmjs-codecs` exists for the decode benchmark. */
  codecs?: CodecSet;
}

type Fail = (msg: string, cause?: unknown) => never;

/**
 * Decodes frame `frameIndex` (0-based, default 0) of a Part-10 file. Every failure — unreadable
 * file, missing attribute, truncated or corrupt pixel data, a transfer syntax without a codec
 * here, colour data — is a PixelDecodeError naming the transfer syntax and SOP Instance UID.
 */
export async function decodeFrame(bytes: Uint8Array, frameIndex = 0, options: DecodeFrameOptions = {}): Promise<DecodedFrame> {
  const ds = readPixelDataset(bytes);
  const ts = ds.transferSyntaxUid;
  const where = `${describeTransferSyntax(ts)}, frame ${frameIndex + 1} of ${ds.numberOfFrames}`;
  // Every message names the SOP Instance UID and the transfer syntax (UID and name).
  const fail: Fail = (msg, cause) => {
    const text = msg.includes(describeTransferSyntax(ts)) ? msg : `${msg} (${where})`;
    throw new PixelDecodeError(`${ds.sopInstanceUid ?? '(no SOPInstanceUID)'}: ${text}`, { transferSyntaxUid: ts, sopInstanceUid: ds.sopInstanceUid }, cause === undefined ? undefined : { cause });
  };
  const encoding = pixelEncodingOf(ts);
  if (encoding === 'unsupported') {
    fail(`transfer syntax ${describeTransferSyntax(ts)} cannot be decoded here (decodable: ${DECODABLE_TRANSFER_SYNTAXES.join(', ')})`);
  }
  const pi = ds.photometricInterpretation;
  if ((pi !== 'MONOCHROME1' && pi !== 'MONOCHROME2') || ds.samplesPerPixel !== 1) {
    fail(`${pi || '(no PhotometricInterpretation)'} with ${ds.samplesPerPixel} samples per pixel is not a monochrome image`);
  }
  if (!Number.isInteger(frameIndex) || frameIndex < 0 || frameIndex >= ds.numberOfFrames) {
    fail(`frame index ${frameIndex} is outside 0..${ds.numberOfFrames - 1}`);
  }
  let pixels: DecodedFrame['pixels'];
  if (ds.pixelData.kind === 'native') {
    const raw = nativeFrameBytes(ds, ds.pixelData.bytes, frameIndex);
    if (!raw) {
      const need = Math.ceil((ds.numberOfFrames * ds.rows * ds.columns * ds.bitsAllocated) / 8);
      fail(`native pixel data is ${ds.pixelData.bytes.length} bytes, ${ds.numberOfFrames} frame(s) of ${ds.rows}x${ds.columns}x${ds.bitsAllocated} bits need ${need}`);
    }
    pixels = fromNative(ds, raw as Uint8Array, frameIndex, encoding === 'native-be');
  } else {
    const grouped = encapsulatedFrames(ds, ds.pixelData.items, encoding);
    if (typeof grouped === 'string') fail(grouped as string);
    const codestream = joinFragments((grouped as Uint8Array[][])[frameIndex] as Uint8Array[]);
    let out: CodecOutput;
    try {
      out = await decodeCodestream(ds, encoding, codestream, options.codecs ?? 'cornerstone', fail);
    } catch (err) {
      if (err instanceof PixelDecodeError) throw err;
      fail(`the codec failed: ${codecMessage(err)}`, err);
    }
    pixels = fromCodec(ds, out!, fail);
  }
  const attrs = ds.frame(frameIndex);
  const frame: DecodedFrame = {
    pixels,
    rows: ds.rows,
    columns: ds.columns,
    bitsAllocated: ds.bitsAllocated,
    bitsStored: ds.bitsStored,
    highBit: ds.highBit,
    pixelRepresentation: ds.pixelRepresentation,
    photometricInterpretation: pi,
    rescaleSlope: attrs.rescaleSlope,
    rescaleIntercept: attrs.rescaleIntercept,
    numberOfFrames: ds.numberOfFrames,
    frameIndex,
    transferSyntaxUid: ts,
  };
  if (attrs.pixelSpacing) frame.pixelSpacing = attrs.pixelSpacing;
  return frame;
}

/** Emscripten codecs throw numbers (pointers) or strings as often as Errors. */
function codecMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return `codec error ${String(err)}`;
}

async function decodeCodestream(ds: PixelDataset, encoding: PixelEncoding, codestream: Uint8Array, codecs: CodecSet, fail: Fail): Promise<CodecOutput> {
  const layout = {
    rows: ds.rows,
    columns: ds.columns,
    bitsAllocated: ds.bitsAllocated,
    bitsStored: ds.bitsStored,
    pixelRepresentation: ds.pixelRepresentation,
    samplesPerPixel: ds.samplesPerPixel,
    photometricInterpretation: ds.photometricInterpretation,
  };
  switch (encoding) {
    case 'rle': {
      if (codecs === 'dcmjs-codecs') return decodeWithDcmjsCodecs('rle', codestream, layout);
      const bytesPer = ds.bitsAllocated / 8;
      return { bytes: decodeRleFrame(codestream, ds.rows, ds.columns, bytesPer), width: ds.columns, height: ds.rows, bitsPerSample: ds.bitsAllocated, components: 1 };
    }
    case 'jpeg-baseline':
    case 'jpeg-extended':
    case 'jpeg-lossless':
    case 'jpeg-ls': {
      // The codestream's SOF marker, not the UID, says which process wrote it (files are mislabelled in the wild).
      const sof = readJpegFrameHeader(codestream);
      if (!sof) return fail('the pixel data is not a JPEG codestream (no SOI/SOF marker)');
      checkSize(ds, sof.width, sof.height || ds.rows, sof.components, `JPEG ${describeJpegFrame(sof)}`, fail);
      // CharLS (cornerstone build) spends seconds on a cut-short stream before it fails.
      if (sof.marker === 0xf7 && !endsWithEoi(codestream)) return fail('the JPEG-LS codestream has no EOI marker at its end: it was cut short');
      if (sof.marker === 0xf7) return codecs === 'dcmjs-codecs' ? decodeWithDcmjsCodecs('jpeg-ls', codestream, layout) : decodeJpegLs(codestream);
      if (codecs === 'dcmjs-codecs') return decodeWithDcmjsCodecs('jpeg', codestream, layout);
      if (sof.marker === 0xc3) return decodeJpegLossless(codestream);
      if ((sof.marker === 0xc0 || sof.marker === 0xc1 || sof.marker === 0xc2) && sof.precision === 8) return decodeJpeg8(codestream);
      // 12-bit extended/progressive: libjpeg-turbo's cornerstone build is 8-bit only.
      if ((sof.marker === 0xc1 || sof.marker === 0xc2) && sof.precision === 12) return decodeWithDcmjsCodecs('jpeg', codestream, layout);
      return fail(`JPEG ${describeJpegFrame(sof)} is not decodable here`);
    }
    case 'jpeg-2000': {
      const siz = readJ2kSize(codestream);
      if (siz) checkSize(ds, siz.width, siz.height, siz.components, 'JPEG 2000 SIZ', fail);
      if (!endsWithEoi(codestream)) return fail('the JPEG 2000 codestream has no EOC marker at its end: it was cut short');
      return codecs === 'dcmjs-codecs' ? decodeWithDcmjsCodecs('jpeg-2000', codestream, layout) : decodeJpeg2000(codestream);
    }
    case 'htj2k': {
      const siz = readJ2kSize(codestream);
      if (siz) checkSize(ds, siz.width, siz.height, siz.components, 'HTJ2K SIZ', fail);
      // OpenJPH decodes a cut-short stream into a partial image without an error: refuse it.
      if (!endsWithEoi(codestream)) return fail('the HTJ2K codestream has no EOC marker at its end: it was cut short');
      const out = codecs === 'dcmjs-codecs' ? await decodeWithDcmjsCodecs('htj2k', codestream, layout) : await decodeHtj2k(codestream);
      // OpenJPH's wasm builds (cornerstone 2.4.11, dcmjs-codecs 0.0.8) saturate negative samples
      // of signed codestreams to 32767 (checked against ojph_expand): refuse rather than return
      // wrong pixels.
      if (out.signed === true || (out.signed === undefined && ds.pixelRepresentation === 1)) {
        return fail('signed HTJ2K samples are not decodable here: the OpenJPH WebAssembly decoder saturates negative values');
      }
      return out;
    }
    default:
      return fail(`no codec for ${encoding}`);
  }
}

/** JPEG-LS EOI and JPEG 2000 EOC are both FFD9: a complete codestream ends with it. */
function endsWithEoi(b: Uint8Array): boolean {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0) end--; // DICOM pads items to an even length
  return end >= 2 && b[end - 2] === 0xff && b[end - 1] === 0xd9;
}

/**
 * Refuses a codestream whose header disagrees with Rows/Columns before the codec runs: a corrupt
 * header can ask a codec for gigabytes and seconds of work only to be refused afterwards.
 */
function checkSize(ds: PixelDataset, width: number, height: number, components: number, what: string, fail: Fail): void {
  if (width !== ds.columns || height !== ds.rows || components !== 1) {
    fail(`the ${what} header says ${width}x${height} with ${components} component(s); the dataset says ${ds.columns}x${ds.rows}, 1 sample`);
  }
}

type TypedPixels = DecodedFrame['pixels'];

function allocate(bitsAllocated: number, signed: boolean, n: number): TypedPixels {
  if (bitsAllocated <= 8) return signed ? new Int8Array(n) : new Uint8Array(n);
  if (bitsAllocated === 16) return signed ? new Int16Array(n) : new Uint16Array(n);
  return signed ? new Int32Array(n) : new Uint32Array(n);
}

/** Writes `read(i)` for every pixel, keeping `bits` bits above `shift` and sign-extending when signed. */
function fill(out: TypedPixels, n: number, read: (i: number) => number, shift: number, bits: number, signed: boolean): TypedPixels {
  if (bits >= 32 && shift === 0) {
    for (let i = 0; i < n; i++) out[i] = read(i);
    return out;
  }
  const mask = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
  const ext = 32 - bits;
  for (let i = 0; i < n; i++) {
    const v = (read(i) >>> shift) & mask;
    out[i] = signed ? (v << ext) >> ext : v;
  }
  return out;
}

function fromNative(ds: PixelDataset, raw: Uint8Array, frameIndex: number, bigEndian: boolean): TypedPixels {
  const n = ds.rows * ds.columns;
  const signed = ds.pixelRepresentation === 1;
  const shift = ds.highBit + 1 - ds.bitsStored;
  const out = allocate(ds.bitsAllocated, signed, n);
  if (ds.bitsAllocated === 1) {
    const firstBit = (frameIndex * n) % 8;
    return fill(out, n, (i) => ((raw[(firstBit + i) >> 3] as number) >> ((firstBit + i) & 7)) & 1, 0, 1, false);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = !bigEndian;
  const read =
    ds.bitsAllocated === 8 ? (i: number) => raw[i] as number : ds.bitsAllocated === 16 ? (i: number) => view.getUint16(2 * i, le) : (i: number) => view.getUint32(4 * i, le);
  return fill(out, n, read, shift, ds.bitsStored, signed);
}

function fromCodec(ds: PixelDataset, out: CodecOutput, fail: Fail): TypedPixels {
  // OpenJPEG returns an empty 0x0 image instead of an error for a cut-short codestream.
  if (out.width === 0 || out.height === 0 || out.bytes.length === 0) fail('the codec decoded no image: the codestream is corrupt or cut short');
  if (out.width !== ds.columns || out.height !== ds.rows || out.components !== 1) {
    fail(`the codestream is ${out.width}x${out.height} with ${out.components} component(s); the dataset says ${ds.columns}x${ds.rows}, 1 sample`);
  }
  const n = ds.rows * ds.columns;
  const bytesPer = out.bytes.length >= 4 * n && out.bitsPerSample > 16 ? 4 : out.bytes.length >= 2 * n && out.bitsPerSample > 8 ? 2 : 1;
  if (out.bytes.length < bytesPer * n) fail(`the codec returned ${out.bytes.length} bytes for ${n} pixels`);
  if (out.bitsPerSample > ds.bitsAllocated) fail(`the codestream has ${out.bitsPerSample}-bit samples; BitsAllocated is ${ds.bitsAllocated}`);
  const view = new DataView(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength);
  const read = bytesPer === 1 ? (i: number) => out.bytes[i] as number : bytesPer === 2 ? (i: number) => view.getUint16(2 * i, true) : (i: number) => view.getUint32(4 * i, true);
  // Codestream samples start at bit 0. Trust the codestream's precision when it exceeds BitsStored
  // (a J2K stream of 16 bits in a file that says 14 keeps its values, as pydicom and dcmtk do).
  const bits = Math.min(ds.bitsAllocated, Math.max(ds.bitsStored, out.bitsPerSample));
  return fill(allocate(ds.bitsAllocated, ds.pixelRepresentation === 1, n), n, read, 0, bits, ds.pixelRepresentation === 1);
}
