/**
 * Transfer syntaxes by how their pixel data is stored: native (little or big endian, possibly
 * deflated) or encapsulated with one codec. The names are PS3.6 Table A-1's, so an error can say
 * what a UID is.
 */

/** How a transfer syntax stores pixel data; `unsupported` has a name but no decoder here. */
export type PixelEncoding =
  | 'native-le'
  | 'native-be'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg-2000'
  | 'htj2k'
  | 'unsupported';

interface TransferSyntaxInfo {
  name: string;
  encoding: PixelEncoding;
}

const TRANSFER_SYNTAXES: Readonly<Record<string, TransferSyntaxInfo>> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', encoding: 'native-le' },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', encoding: 'native-le' },
  '1.2.840.10008.1.2.1.99': { name: 'Deflated Explicit VR Little Endian', encoding: 'native-le' },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian', encoding: 'native-be' },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', encoding: 'rle' },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', encoding: 'jpeg-baseline' },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', encoding: 'jpeg-extended' },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless, Non-Hierarchical (Process 14)', encoding: 'jpeg-lossless' },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])', encoding: 'jpeg-lossless' },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless Image Compression', encoding: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Lossy (Near-Lossless) Image Compression', encoding: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Image Compression (Lossless Only)', encoding: 'jpeg-2000' },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000 Image Compression', encoding: 'jpeg-2000' },
  '1.2.840.10008.1.2.4.201': { name: 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', encoding: 'htj2k' },
  '1.2.840.10008.1.2.4.202': { name: 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)', encoding: 'htj2k' },
  '1.2.840.10008.1.2.4.203': { name: 'High-Throughput JPEG 2000 Image Compression', encoding: 'htj2k' },
  // Named so that the refusal says what they are; no decoder here.
  '1.2.840.10008.1.2.4.92': { name: 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)', encoding: 'unsupported' },
  '1.2.840.10008.1.2.4.93': { name: 'JPEG 2000 Part 2 Multi-component Image Compression', encoding: 'unsupported' },
  '1.2.840.10008.1.2.4.110': { name: 'JPEG XL Lossless', encoding: 'unsupported' },
  '1.2.840.10008.1.2.4.111': { name: 'JPEG XL JPEG Recompression', encoding: 'unsupported' },
  '1.2.840.10008.1.2.4.112': { name: 'JPEG XL', encoding: 'unsupported' },
  '1.2.840.10008.1.2.4.100': { name: 'MPEG2 Main Profile / Main Level', encoding: 'unsupported' },
  '1.2.840.10008.1.2.4.102': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.1', encoding: 'unsupported' },
  '1.2.840.10008.1.2.4.107': { name: 'HEVC/H.265 Main Profile / Level 5.1', encoding: 'unsupported' },
  '1.2.840.10008.1.2.4.52': { name: 'JPEG Extended (Process 3 & 5) (retired)', encoding: 'unsupported' },
  '1.2.840.10008.1.2.4.53': { name: 'JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8) (retired)', encoding: 'unsupported' },
  '1.2.840.10008.1.2.4.55': { name: 'JPEG Full Progression, Non-Hierarchical (Process 10 & 12) (retired)', encoding: 'unsupported' },
};

/** Transfer syntaxes whose pixel data {@link decodeFrame} decodes. */
export const DECODABLE_TRANSFER_SYNTAXES: readonly string[] = Object.entries(TRANSFER_SYNTAXES)
  .filter(([, t]) => t.encoding !== 'unsupported')
  .map(([uid]) => uid);

/** How the pixel data of this transfer syntax is stored (`unsupported` when unknown here). */
export function pixelEncodingOf(uid: string): PixelEncoding {
  return TRANSFER_SYNTAXES[uid]?.encoding ?? 'unsupported';
}

/** "UID (name)" for messages; an unknown UID says so. */
export function describeTransferSyntax(uid: string): string {
  if (uid === '') return '(no transfer syntax)';
  return `${uid} (${TRANSFER_SYNTAXES[uid]?.name ?? 'unknown transfer syntax'})`;
}
