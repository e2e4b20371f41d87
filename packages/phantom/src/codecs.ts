import { createRequire } from 'node:module';
import { PhantomOptionError } from './errors.js';

/**
 * JPEG-LS and JPEG 2000 encoders: CharLS and OpenJPEG compiled to WebAssembly
 * (@cornerstonejs/codec-charls, @cornerstonejs/codec-openjpeg — the codecs OHIF ships; their
 * encoders are the reference libraries, so the codestreams are what a real modality writes).
 * WebAssembly instantiation is asynchronous: `loadPhantomCodecs()` must have resolved before
 * `generateStudy` writes one of these transfer syntaxes (writePhantomDataset does it).
 */
interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
}
interface WasmEncoder {
  getDecodedBuffer(info: FrameInfo): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  encode(): void;
  delete(): void;
}
interface CharlsEncoder extends WasmEncoder {
  setNearLossless(near: number): void;
}
interface OpenJpegEncoder extends WasmEncoder {
  setQuality(lossless: boolean, layers: number): void;
  setCompressionRatio(layer: number, ratio: number): void;
}
interface CharlsModule {
  JpegLSEncoder: new () => CharlsEncoder;
}
interface OpenJpegModule {
  J2KEncoder: new () => OpenJpegEncoder;
}

let charls: CharlsModule | undefined;
let openjpeg: OpenJpegModule | undefined;

/** Instantiates the WebAssembly encoders once per process. */
export async function loadPhantomCodecs(): Promise<void> {
  if (charls && openjpeg) return;
  const require = createRequire(import.meta.url);
  const charlsFactory = require('@cornerstonejs/codec-charls/wasmjs') as () => Promise<CharlsModule>;
  const openjpegFactory = require('@cornerstonejs/codec-openjpeg/wasmjs') as () => Promise<OpenJpegModule>;
  [charls, openjpeg] = await Promise.all([charlsFactory(), openjpegFactory()]);
}

export function codecsLoaded(): boolean {
  return charls !== undefined && openjpeg !== undefined;
}

function notLoaded(what: string): never {
  throw new PhantomOptionError(`${what} needs the WebAssembly encoders: await loadPhantomCodecs() before generateStudy`);
}

function run(enc: WasmEncoder, pixels: Uint16Array, rows: number, cols: number, bitsStored: number): Uint8Array {
  try {
    const input = enc.getDecodedBuffer({ width: cols, height: rows, bitsPerSample: bitsStored, componentCount: 1, isSigned: false });
    input.set(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
    enc.encode();
    // Copy out of the WebAssembly heap before the encoder is freed.
    return new Uint8Array(enc.getEncodedBuffer());
  } finally {
    enc.delete();
  }
}

/** JPEG-LS (ISO 14495-1) of one 16-bit frame; near = 0 is lossless. */
export function encodeJpegLs(pixels: Uint16Array, rows: number, cols: number, bitsStored: number, near: number): Uint8Array {
  if (!charls) notLoaded('JPEG-LS');
  const enc = new charls.JpegLSEncoder();
  enc.setNearLossless(near);
  return run(enc, pixels, rows, cols, bitsStored);
}

/** JPEG 2000 (ISO 15444-1) codestream of one 16-bit frame: reversible 5/3 when `ratio` is absent, else 9/7 at that ratio. */
export function encodeJ2k(pixels: Uint16Array, rows: number, cols: number, bitsStored: number, ratio?: number): Uint8Array {
  if (!openjpeg) notLoaded('JPEG 2000');
  const enc = new openjpeg.J2KEncoder();
  if (ratio !== undefined) {
    enc.setQuality(false, 1);
    enc.setCompressionRatio(0, ratio);
  }
  return run(enc, pixels, rows, cols, bitsStored);
}
