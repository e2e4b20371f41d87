/**
 * Part-10 encoding: a naturalized dataset becomes explicit VR little endian bytes with a
 * correct File Meta Information header, and back. Reading repairs dcmjs #508: dcmjs decodes
 * text inside sequences with its default windows-1252 decoder even when the file declares
 * UTF-8, so nested non-ASCII strings come back as mojibake unless re-decoded here.
 */
import { uidFromName } from '@ldh/dicom';
import { DicomDict, DicomMessage, DicomMetaDictionary, type NaturalizedDataset } from './dcmjs.js';
import { SrParseError } from './errors.js';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** Stable per product, derived from a name so no org root is needed. */
export const IMPLEMENTATION_CLASS_UID = uidFromName('ldh-triage:@ldh/sr:implementation-class');
export const IMPLEMENTATION_VERSION_NAME = 'LDH_SR_0_1';

/** Encodes a naturalized dataset (must hold SOPClassUID and SOPInstanceUID) as a Part-10 file. */
export function writePart10(dataset: NaturalizedDataset): Uint8Array {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

/** Decodes Part-10 bytes to a naturalized dataset, with nested UTF-8 text repaired (dcmjs #508). */
export function readPart10(bytes: Uint8Array): NaturalizedDataset {
  let dict;
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    dict = DicomMessage.readFile(buffer);
  } catch (err) {
    throw new SrParseError(`not a readable DICOM Part-10 file: ${(err as Error).message}`);
  }
  const charsetElement = dict.dict['00080005'];
  const declared = String((charsetElement?._rawValue ?? charsetElement?.Value ?? [])[0] ?? '').trim();
  if (declared === 'ISO_IR 192') {
    // Only sequence contents are affected; top-level text was decoded with the right charset.
    for (const element of Object.values(dict.dict)) {
      if (element.vr === 'SQ' && element.Value !== undefined) element.Value = element.Value.map(repairNested);
    }
  }
  const dataset = DicomMetaDictionary.naturalizeDataset(dict.dict);
  return dataset;
}

// Inverse of the windows-1252 decoder dcmjs uses for nested items: char -> original byte.
const WINDOWS_1252_BYTES = (() => {
  const decoder = new TextDecoder('latin1');
  const map = new Map<string, number>();
  for (let b = 0; b < 256; b++) map.set(decoder.decode(new Uint8Array([b])), b);
  return map;
})();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Re-decodes a string that dcmjs decoded as windows-1252 but whose bytes were UTF-8. */
export function repairUtf8Mojibake(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  const bytes: number[] = [];
  for (const ch of s) {
    const b = WINDOWS_1252_BYTES.get(ch);
    if (b === undefined) return s; // not mojibake of UTF-8: leave untouched
    bytes.push(b);
  }
  try {
    return utf8.decode(new Uint8Array(bytes));
  } catch {
    return s; // bytes are not UTF-8: the string was not mojibake
  }
}

function repairNested(value: unknown): unknown {
  if (typeof value === 'string') return repairUtf8Mojibake(value);
  if (Array.isArray(value)) return value.map(repairNested);
  if (value !== null && typeof value === 'object' && !(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = repairNested(v);
    return out;
  }
  return value;
}
