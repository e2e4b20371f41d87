import { encodeJ2k, encodeJpegLs } from './codecs.js';
import { PhantomOptionError } from './errors.js';
import { encodeRle16 } from './rle.js';
import type { TransferSyntaxName } from './types.js';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const RLE_LOSSLESS = '1.2.840.10008.1.2.5';
export const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';
export const JPEG_LS_NEAR_LOSSLESS = '1.2.840.10008.1.2.4.81';
export const JPEG_2000_LOSSLESS = '1.2.840.10008.1.2.4.90';
export const JPEG_2000 = '1.2.840.10008.1.2.4.91';
export const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
export const ENHANCED_MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4.1';
export const SECONDARY_CAPTURE_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.7';

/** JPEG-LS near-lossless: the largest error per sample; JPEG 2000 lossy: the target compression ratio. */
export const JPEG_LS_NEAR = 2;
export const JPEG_2000_RATIO = 5;

const BY_NAME: Record<TransferSyntaxName, string> = {
  'explicit-le': EXPLICIT_VR_LITTLE_ENDIAN,
  'implicit-le': IMPLICIT_VR_LITTLE_ENDIAN,
  rle: RLE_LOSSLESS,
  'jpeg-ls': JPEG_LS_LOSSLESS,
  'jpeg-ls-near': JPEG_LS_NEAR_LOSSLESS,
  j2k: JPEG_2000_LOSSLESS,
  'j2k-lossy': JPEG_2000,
};

export const TRANSFER_SYNTAX_NAMES = Object.keys(BY_NAME) as TransferSyntaxName[];

/** The transfer syntax UID of a short name used by the CLI and writePhantomDataset. */
export function transferSyntaxUidOf(name: TransferSyntaxName): string {
  const uid = BY_NAME[name];
  if (uid === undefined) throw new PhantomOptionError(`unknown transfer syntax "${String(name)}" (expected ${TRANSFER_SYNTAX_NAMES.join(', ')})`);
  return uid;
}

/** The transfer syntaxes the generator can write. */
export const SUPPORTED_TRANSFER_SYNTAXES: readonly string[] = Object.values(BY_NAME);

/** Lossy transfer syntaxes: the image carries Lossy Image Compression "01" with ratio and method. */
export function lossyCompression(tsUid: string): { ratio: number; method: string } | undefined {
  if (tsUid === JPEG_LS_NEAR_LOSSLESS) return { ratio: 3, method: 'ISO_14495_1' };
  if (tsUid === JPEG_2000) return { ratio: JPEG_2000_RATIO, method: 'ISO_15444_1' };
  return undefined;
}

/** The encoded frame for an encapsulated transfer syntax, or undefined for a native one. */
export function encodeFrame(tsUid: string, pixels: Uint16Array, rows: number, cols: number, bitsStored: number): Uint8Array | undefined {
  switch (tsUid) {
    case RLE_LOSSLESS:
      return encodeRle16(pixels, rows, cols);
    case JPEG_LS_LOSSLESS:
      return encodeJpegLs(pixels, rows, cols, bitsStored, 0);
    case JPEG_LS_NEAR_LOSSLESS:
      return encodeJpegLs(pixels, rows, cols, bitsStored, JPEG_LS_NEAR);
    case JPEG_2000_LOSSLESS:
      return encodeJ2k(pixels, rows, cols, bitsStored);
    case JPEG_2000:
      return encodeJ2k(pixels, rows, cols, bitsStored, JPEG_2000_RATIO);
    default:
      return undefined;
  }
}

/** Whether a transfer syntax needs the WebAssembly encoders (loadPhantomCodecs). */
export function needsCodecs(tsUid: string): boolean {
  return [JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS, JPEG_2000_LOSSLESS, JPEG_2000].includes(tsUid);
}
