import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// dcmjs ships no type declarations; we type the few calls we make.
const dcmjs = require('dcmjs') as {
  log?: { setLevel?(level: string): void; getLogger?(name: string): { setLevel?(level: string): void } };
  data: {
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { meta: Record<string, unknown>; dict: Record<string, unknown> } };
    DicomMetaDictionary: { naturalizeDataset(dict: Record<string, unknown>): Record<string, unknown> };
  };
};

// dcmjs logs every VR it coerces (e.g. "Invalid vr type ox - using OW") to the console; keep
// stderr for our own structured logs.
dcmjs.log?.setLevel?.('error');
// Its separate validation logger reports VR coercions of implicit-VR pixel data ("ox" → OW).
dcmjs.log?.getLogger?.('validation.dcmjs').setLevel?.('silent');

/** Naturalized dataset (keyword → value), as dcmjs produces it. */
export type NaturalDataset = Record<string, unknown>;

export class DicomParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DicomParseError';
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * Parse a Part-10 file's meta header and dataset. With `headerOnly`, parsing stops before Pixel
 * Data, so routing a 2 GB study never loads its pixels.
 */
export function readPart10(bytes: Uint8Array, opts: { headerOnly?: boolean } = {}): { meta: NaturalDataset; dataset: NaturalDataset } {
  try {
    const dict = dcmjs.data.DicomMessage.readFile(
      toArrayBuffer(bytes),
      opts.headerOnly ? { untilTag: '7FE00010', stopOnGreaterTag: true, includeUntilTagValue: false } : {},
    );
    return {
      meta: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.meta),
      dataset: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict),
    };
  } catch (err) {
    throw new DicomParseError(`cannot parse DICOM Part-10 data: ${(err as Error).message}`, { cause: err });
  }
}

/** First value of a naturalized attribute as a string, or undefined. */
export function str(ds: NaturalDataset, keyword: string): string | undefined {
  const v = ds[keyword];
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined || first === null) return undefined;
  if (typeof first === 'object' && first !== null && 'Alphabetic' in first) return String((first as { Alphabetic: unknown }).Alphabetic);
  return String(first);
}

/** Numeric value(s) of a naturalized attribute. */
export function nums(ds: NaturalDataset, keyword: string): number[] | undefined {
  const v = ds[keyword];
  if (v === undefined || v === null) return undefined;
  const arr = (Array.isArray(v) ? v : [v]).map((x) => Number(x));
  return arr.every((n) => Number.isFinite(n)) ? arr : undefined;
}
