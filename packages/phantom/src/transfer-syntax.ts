import { PhantomOptionError } from './errors.js';
import type { TransferSyntaxName } from './types.js';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const RLE_LOSSLESS = '1.2.840.10008.1.2.5';
export const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';

const BY_NAME: Record<TransferSyntaxName, string> = {
  'explicit-le': EXPLICIT_VR_LITTLE_ENDIAN,
  'implicit-le': IMPLICIT_VR_LITTLE_ENDIAN,
  rle: RLE_LOSSLESS,
};

/** The transfer syntax UID of a short name used by the CLI and writePhantomDataset. */
export function transferSyntaxUidOf(name: TransferSyntaxName): string {
  const uid = BY_NAME[name];
  if (uid === undefined) throw new PhantomOptionError(`unknown transfer syntax "${String(name)}" (expected explicit-le, implicit-le or rle)`);
  return uid;
}

/** The transfer syntaxes the generator can write. */
export const SUPPORTED_TRANSFER_SYNTAXES: readonly string[] = Object.values(BY_NAME);
