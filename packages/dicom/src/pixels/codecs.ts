/**
 * The codecs behind decodeFrame, loaded lazily (a file of one transfer syntax loads one codec)
 * and offline: every WebAssembly binary is read from node_modules and handed to its Emscripten
 * module as `wasmBinary`, so nothing is ever fetched.
 *
 * Chosen set (see bench/decode): the cornerstonejs codecs that OHIF ships — libjpeg-turbo
 * (8-bit JPEG baseline/extended), CharLS (JPEG-LS), OpenJPEG (JPEG 2000), OpenJPH (HTJ2K) — plus
 * jpeg-lossless-decoder-js (JPEG lossless process 14, cornerstone's own choice) and, for 12-bit
 * JPEG extended only (no cornerstone codec decodes it), the libjpeg build inside dcmjs-codecs.
 * `dcmjs-codecs` as a whole is the alternative measured by the benchmark.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** What a codec returns: the samples' bytes (8-bit, or 16-bit little endian) and their layout. */
export interface CodecOutput {
  bytes: Uint8Array;
  width: number;
  height: number;
  /** Bits per sample in the codestream (precision). */
  bitsPerSample: number;
  components: number;
  /** J2K codestreams say whether samples are signed; other codecs leave it undefined. */
  signed?: boolean;
}

/** Which codec implementation decodes each compression family. */
export type CodecSet = 'cornerstone' | 'dcmjs-codecs';

interface EmscriptenDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  delete(): void;
}
type DecoderModule = Record<string, new () => EmscriptenDecoder> & { getExceptionMessage?: (ptr: number) => [string, string] | string };
interface EmscriptenOptions {
  wasmBinary: Uint8Array;
  print: (text: string) => void;
  printErr: (text: string) => void;
}

const modules = new Map<string, Promise<DecoderModule>>();

function loadEmscripten(pkg: string, js: string, wasm: string): Promise<DecoderModule> {
  let p = modules.get(pkg);
  if (!p) {
    p = (async () => {
      type Factory = (opts: EmscriptenOptions) => Promise<DecoderModule>;
      const factory = require(`${pkg}/${js}`) as Factory | { default: Factory };
      const create = typeof factory === 'function' ? factory : factory.default;
      // OpenJPEG prints "[INFO] ..." per image through Emscripten's print: keep stdout for our logs.
      const quiet = (): void => undefined;
      return create({ wasmBinary: readFileSync(require.resolve(`${pkg}/${wasm}`)), print: quiet, printErr: quiet });
    })();
    // A failed load is not cached: the next call tries again (and reports the same cause).
    p.catch(() => modules.delete(pkg));
    modules.set(pkg, p);
  }
  return p;
}

async function runEmscripten(pkg: string, js: string, wasm: string, cls: string, encoded: Uint8Array): Promise<CodecOutput> {
  const mod = await loadEmscripten(pkg, js, wasm);
  const Decoder = mod[cls];
  if (!Decoder) throw new Error(`${pkg} has no ${cls}`);
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    try {
      decoder.decode();
    } catch (err) {
      // C++ exceptions arrive as pointers: turn them into the codec's own message.
      if (typeof err === 'number' && mod.getExceptionMessage) {
        const m = mod.getExceptionMessage(err);
        throw new Error(Array.isArray(m) ? m.filter(Boolean).join(': ') : m, { cause: err });
      }
      throw err;
    }
    const info = decoder.getFrameInfo();
    // The decoded buffer is a view into wasm memory: copy it out before the decoder is freed.
    const bytes = decoder.getDecodedBuffer().slice();
    const out: CodecOutput = { bytes, width: info.width, height: info.height, bitsPerSample: info.bitsPerSample, components: info.componentCount };
    if (typeof info.isSigned === 'boolean') out.signed = info.isSigned;
    return out;
  } finally {
    decoder.delete();
  }
}

/** libjpeg-turbo (cornerstone build): JPEG processes 1 and 2/4 with 8-bit samples. */
export function decodeJpeg8(encoded: Uint8Array): Promise<CodecOutput> {
  return runEmscripten('@cornerstonejs/codec-libjpeg-turbo-8bit', 'decodewasmjs', 'decodewasm', 'JPEGDecoder', encoded);
}

/** CharLS (cornerstone build): JPEG-LS lossless and near-lossless. */
export function decodeJpegLs(encoded: Uint8Array): Promise<CodecOutput> {
  return runEmscripten('@cornerstonejs/codec-charls', 'decodewasmjs', 'decodewasm', 'JpegLSDecoder', encoded);
}

/** OpenJPEG (cornerstone build): JPEG 2000 Part 1, reversible and irreversible. */
export function decodeJpeg2000(encoded: Uint8Array): Promise<CodecOutput> {
  return runEmscripten('@cornerstonejs/codec-openjpeg', 'decodewasmjs', 'decodewasm', 'J2KDecoder', encoded);
}

/** OpenJPH (cornerstone build): High-Throughput JPEG 2000. */
export function decodeHtj2k(encoded: Uint8Array): Promise<CodecOutput> {
  return runEmscripten('@cornerstonejs/codec-openjph', 'wasmjs', 'wasm', 'HTJ2KDecoder', encoded);
}

interface LosslessDecoder {
  decode(buffer: ArrayBufferLike, offset: number, length: number, numBytes?: number): ArrayBufferLike | ArrayBufferView;
  frame: { precision: number; dimX: number; dimY: number; numComp: number };
}
const losslessLib = (): { Decoder: new () => LosslessDecoder } => require('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder };

/** jpeg-lossless-decoder-js: JPEG process 14 (any predictor), 2–16 bits. */
export function decodeJpegLossless(encoded: Uint8Array): CodecOutput {
  const decoder = new (losslessLib().Decoder)();
  const out = decoder.decode(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const f = decoder.frame;
  const view = ArrayBuffer.isView(out) ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : new Uint8Array(out);
  return { bytes: view, width: f.dimX, height: f.dimY, bitsPerSample: f.precision, components: f.numComp };
}

// ---- dcmjs-codecs: one wasm with libjpeg (8/12/16-bit), CharLS, OpenJPEG, OpenJPH and RLE.

interface DcmjsCodecsContext {
  getDecodedBuffer(): Uint8Array;
  getWidth(): number | undefined;
  getHeight(): number | undefined;
  getBitsStored(): number | undefined;
  getSamplesPerPixel(): number | undefined;
}
interface DcmjsCodecs {
  Context: new (attrs: Record<string, unknown>) => DcmjsCodecsContext;
  NativeCodecs: {
    initializeAsync(opts: { webAssemblyModulePathOrUrl: string }): Promise<void>;
    isInitialized(): boolean;
  } & Record<'decodeJpeg' | 'decodeJpegLs' | 'decodeJpeg2000' | 'decodeHtJpeg2000' | 'decodeRle', (ctx: DcmjsCodecsContext, params?: Record<string, unknown>) => DcmjsCodecsContext>;
}
let dcmjsCodecsLoad: Promise<DcmjsCodecs> | undefined;

function loadDcmjsCodecs(): Promise<DcmjsCodecs> {
  dcmjsCodecsLoad ??= (async () => {
    const lib = require('dcmjs-codecs') as DcmjsCodecs;
    if (!lib.NativeCodecs.isInitialized()) {
      await lib.NativeCodecs.initializeAsync({ webAssemblyModulePathOrUrl: require.resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm') });
    }
    return lib;
  })();
  dcmjsCodecsLoad.catch(() => (dcmjsCodecsLoad = undefined));
  return dcmjsCodecsLoad;
}

/** The image attributes dcmjs-codecs needs to size its output (it does not read them from the stream). */
export interface FrameLayout {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  samplesPerPixel: number;
  photometricInterpretation: string;
}

/** Decodes one frame with dcmjs-codecs; `family` picks its codec. */
export async function decodeWithDcmjsCodecs(family: 'jpeg' | 'jpeg-ls' | 'jpeg-2000' | 'htj2k' | 'rle', encoded: Uint8Array, layout: FrameLayout): Promise<CodecOutput> {
  const lib = await loadDcmjsCodecs();
  const ctx = new lib.Context({
    width: layout.columns,
    height: layout.rows,
    bitsAllocated: layout.bitsAllocated,
    bitsStored: layout.bitsStored,
    samplesPerPixel: layout.samplesPerPixel,
    pixelRepresentation: layout.pixelRepresentation,
    planarConfiguration: 0,
    photometricInterpretation: layout.photometricInterpretation,
    encodedBuffer: encoded,
  });
  const fn = { jpeg: 'decodeJpeg', 'jpeg-ls': 'decodeJpegLs', 'jpeg-2000': 'decodeJpeg2000', htj2k: 'decodeHtJpeg2000', rle: 'decodeRle' } as const;
  const out = lib.NativeCodecs[fn[family]](ctx, {});
  return {
    bytes: out.getDecodedBuffer(),
    width: out.getWidth() ?? layout.columns,
    height: out.getHeight() ?? layout.rows,
    bitsPerSample: out.getBitsStored() ?? layout.bitsStored,
    components: out.getSamplesPerPixel() ?? layout.samplesPerPixel,
  };
}
