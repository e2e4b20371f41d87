import { createRequire } from 'node:module';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { locateCharsetText, TextWalkError, type ElementPath } from './charset-elements.js';
import { CharsetError, decodeText, formatPersonName, parsePersonName, splitTextValues, type PersonName } from './charset.js';
import { readPart10Layout } from './scp/part10-meta.js';

const require = createRequire(import.meta.url);
interface DcmjsElement {
  vr: string;
  Value?: unknown[];
}
type DcmjsDict = Record<string, DcmjsElement>;
// dcmjs ships no type declarations; we type the few calls we make.
const dcmjs = require('dcmjs') as {
  log?: { setLevel?(level: string): void; getLogger?(name: string): { setLevel?(level: string): void } };
  data: {
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { meta: DcmjsDict; dict: DcmjsDict } };
    DicomMetaDictionary: {
      naturalizeDataset(dict: DcmjsDict): Record<string, unknown>;
      dictionary: Record<string, { vr?: string; name?: string } | undefined>;
    };
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

/**
 * Stands in a naturalized dataset for a text value that its Specific Character Set cannot
 * decode: reading it through {@link str}, {@link strings} or {@link personName} throws the
 * {@link CharsetError}; the rest of the header stays readable.
 */
export class UndecodableText {
  constructor(readonly error: CharsetError) {}
  toJSON(): null {
    return null;
  }
}

const TS_IMPLICIT_LE = '1.2.840.10008.1.2';
const TS_EXPLICIT_BE = '1.2.840.10008.1.2.2';
const TS_DEFLATED = '1.2.840.10008.1.2.1.99';

function dictionaryVr(tag: number): string | undefined {
  const h = tag.toString(16).toUpperCase().padStart(8, '0');
  const vr = dcmjs.data.DicomMetaDictionary.dictionary[`(${h.slice(0, 4)},${h.slice(4)})`]?.vr;
  // Group lengths are UL; data-dependent VRs ("ox", "xs") are never text.
  return (tag & 0xffff) === 0 ? 'UL' : vr;
}

function keywordOf(path: ElementPath): string {
  const tag = String(path[path.length - 1]);
  const name = dcmjs.data.DicomMetaDictionary.dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`]?.name;
  return name ?? `(${tag.slice(0, 4)},${tag.slice(4)})`;
}

/** The dcmjs element at a path of tags and item indices, if dcmjs read that far. */
function elementAt(dict: DcmjsDict, path: ElementPath): DcmjsElement | undefined {
  let current: DcmjsDict | undefined = dict;
  for (let i = 0; i < path.length; i += 2) {
    const element: DcmjsElement | undefined = current?.[String(path[i])];
    if (i === path.length - 1) return element;
    current = element?.Value?.[Number(path[i + 1])] as DcmjsDict | undefined;
  }
  return undefined;
}

/** Decoded values in the shape dcmjs gives them: strings, or PN objects with Alphabetic/Ideographic/Phonetic. */
function decodedValues(bytes: Uint8Array, characterSet: readonly string[], vr: string, keyword: string): unknown[] {
  const values = splitTextValues(decodeText(bytes, characterSet, vr, keyword), vr);
  if (vr !== 'PN') return values;
  return values.map((v) => {
    const pn = parsePersonName(v);
    return { ...(pn.alphabetic ? { Alphabetic: pn.alphabetic } : {}), ...(pn.ideographic ? { Ideographic: pn.ideographic } : {}), ...(pn.phonetic ? { Phonetic: pn.phonetic } : {}) };
  });
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** What {@link readPart10} returns. */
export interface Part10Header {
  meta: NaturalDataset;
  /** Text values are decoded JavaScript strings; `SpecificCharacterSet` reads "ISO_IR 192" (as dcmjs sets it). */
  dataset: NaturalDataset;
  /** The source's top-level Specific Character Set terms as declared (`[]`: default repertoire). */
  characterSet: string[];
}

/**
 * Parse a Part-10 file's meta header and dataset. With `headerOnly`, parsing stops before Pixel
 * Data, so routing a 2 GB study never loads its pixels. Every text value (top level and in
 * sequence items, whose own Specific Character Set applies) is decoded here from its bytes with
 * its Specific Character Set, ISO 2022 code extensions included: dcmjs only parses structure
 * (it cannot decode multi-valued character sets and decodes nested text with a guessed one).
 * A value that cannot be decoded becomes an {@link UndecodableText}; it throws when read.
 */
export function readPart10(bytes: Uint8Array, opts: { headerOnly?: boolean } = {}): Part10Header {
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const layout = readPart10Layout(file);
    const ts = layout.transferSyntaxUid;
    const deflated = ts === TS_DEFLATED;
    const dataset = deflated ? inflateRawSync(file.subarray(layout.datasetOffset)) : file.subarray(layout.datasetOffset);
    const found = locateCharsetText(dataset, {
      littleEndian: ts !== TS_EXPLICIT_BE,
      explicitVr: ts !== TS_IMPLICIT_LE,
      untilPixelData: opts.headerOnly === true,
      vrOf: dictionaryVr,
    });
    const topLevel = found.characterSetValues.find((c) => c.path.length === 0)?.terms ?? [];
    // dcmjs must not see the declared character sets: blanked, every text value reaches it as
    // one byte per character (its default decoder), and it never refuses a multi-valued set.
    // A header-only read hands it nothing past Pixel Data (no copy of the pixels).
    const end = found.pixelDataOffset ?? dataset.length;
    let input: ArrayBuffer;
    if (found.characterSetValues.length === 0 && !deflated) {
      input = toArrayBuffer(file.subarray(0, layout.datasetOffset + end));
    } else {
      const blanked = Buffer.from(dataset.subarray(0, end));
      for (const v of found.characterSetValues) blanked.fill(0x20, v.offset, v.offset + v.length);
      input = toArrayBuffer(Buffer.concat([file.subarray(0, layout.datasetOffset), deflated ? deflateRawSync(blanked) : blanked]));
    }
    const dict = dcmjs.data.DicomMessage.readFile(
      input,
      opts.headerOnly ? { untilTag: '7FE00010', stopOnGreaterTag: true, includeUntilTagValue: false } : {},
    );
    for (const text of found.texts) {
      const element = elementAt(dict.dict, text.path);
      if (!element || element.vr !== text.vr) continue;
      const keyword = keywordOf(text.path);
      try {
        element.Value = text.bytes.length === 0 ? [] : decodedValues(text.bytes, text.characterSet, text.vr, keyword);
      } catch (err) {
        if (!(err instanceof CharsetError)) throw err;
        element.Value = [new UndecodableText(err)];
      }
    }
    return {
      meta: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.meta),
      dataset: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict),
      characterSet: topLevel,
    };
  } catch (err) {
    const cause = err instanceof TextWalkError ? `dataset structure: ${err.message}` : (err as Error).message;
    throw new DicomParseError(`cannot parse DICOM Part-10 data: ${cause}`, { cause: err });
  }
}

function firstValue(ds: NaturalDataset, keyword: string): unknown {
  const v = ds[keyword];
  const first = Array.isArray(v) ? v[0] : v;
  if (first instanceof UndecodableText) throw first.error;
  return first;
}

function pnOf(value: object): PersonName {
  const o = value as { Alphabetic?: unknown; Ideographic?: unknown; Phonetic?: unknown };
  const s = (x: unknown): string => (x === undefined || x === null ? '' : String(x));
  return parsePersonName([s(o.Alphabetic), s(o.Ideographic), s(o.Phonetic)].join('='));
}

/**
 * First value of a naturalized attribute as a string, or undefined. A person name comes back
 * whole, in its DICOM form "Alphabetic=Ideographic=Phonetic" (trailing empty groups dropped).
 * Throws {@link CharsetError} when the value could not be decoded.
 */
export function str(ds: NaturalDataset, keyword: string): string | undefined {
  const first = firstValue(ds, keyword);
  if (first === undefined || first === null) return undefined;
  if (typeof first === 'object' && ('Alphabetic' in first || 'Ideographic' in first || 'Phonetic' in first)) return formatPersonName(pnOf(first));
  return String(first);
}

/** First value of a Person Name attribute with its three component groups, or undefined when empty. */
export function personName(ds: NaturalDataset, keyword: string): PersonName | undefined {
  const first = firstValue(ds, keyword);
  if (first === undefined || first === null) return undefined;
  const pn = typeof first === 'object' ? pnOf(first) : parsePersonName(String(first));
  return pn.alphabetic || pn.ideographic || pn.phonetic ? pn : undefined;
}

/** Numeric value(s) of a naturalized attribute. */
export function nums(ds: NaturalDataset, keyword: string): number[] | undefined {
  const v = ds[keyword];
  if (v === undefined || v === null) return undefined;
  const arr = (Array.isArray(v) ? v : [v]).map((x) => Number(x));
  return arr.every((n) => Number.isFinite(n)) ? arr : undefined;
}

/** Every value of a naturalized text attribute as strings (person names in their DICOM form). */
export function strings(ds: NaturalDataset, keyword: string): string[] {
  const v = ds[keyword];
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => {
    if (x instanceof UndecodableText) throw x.error;
    if (x !== null && typeof x === 'object') return formatPersonName(pnOf(x));
    return String(x ?? '');
  });
}
