import { createRequire } from 'node:module';
import { open, readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { isValidUid } from '../uid.js';
import { checkDatasetStructure, DatasetStructureError, type DatasetEncoding } from './dataset-structure.js';
import { DatasetParseError, InvalidInstanceError } from './errors.js';
import { readPart10Layout } from './part10-meta.js';

/** The subset of dcmjs we use; dcmjs ships no type declarations, so we type what we touch. */
interface DcmjsElement {
  vr?: string;
  Value?: unknown[];
}
interface DcmjsSubset {
  data: {
    DicomMessage: {
      readFile(
        buffer: ArrayBuffer,
        options: { ignoreErrors?: boolean; untilTag?: string; includeUntilTagValue?: boolean; noCopy?: boolean },
      ): { meta: Record<string, DcmjsElement>; dict: Record<string, DcmjsElement> };
    };
  };
  log: { setLevel(level: string): void };
}

const require = createRequire(import.meta.url);
const dcmjs = require('dcmjs') as DcmjsSubset;
// dcmjs warns about odd values on the console; values may carry PHI, so keep it quiet.
dcmjs.log.setLevel('error');

/** Identifying attributes of a received instance (no PHI: PatientID etc. are never read out). */
export interface InstanceIdentity {
  sopInstanceUid: string;
  sopClassUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  modality?: string;
  seriesDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  imageOrientationPatient?: number[];
  imagePositionPatient?: number[];
  bodyPartExamined?: string;
  rows?: number;
  columns?: number;
}

export const TS_IMPLICIT_LE = '1.2.840.10008.1.2';
export const TS_EXPLICIT_BE = '1.2.840.10008.1.2.2';
export const TS_DEFLATED = '1.2.840.10008.1.2.1.99';

/** Files up to this size are read whole (one read from the page cache); larger ones only up to pixel data. */
const WHOLE_READ_LIMIT = 64 * 1024 * 1024;
const UNTIL_PIXEL_DATA = '7FE00010';

function encodingOf(transferSyntaxUid: string): DatasetEncoding {
  if (transferSyntaxUid === TS_IMPLICIT_LE) return { littleEndian: true, explicitVr: false };
  if (transferSyntaxUid === TS_EXPLICIT_BE) return { littleEndian: false, explicitVr: true };
  return { littleEndian: true, explicitVr: true };
}

function first(dict: Record<string, DcmjsElement>, tag: string): unknown {
  const v = dict[tag]?.Value;
  return Array.isArray(v) ? v[0] : undefined;
}

function text(dict: Record<string, DcmjsElement>, tag: string): string | undefined {
  const v = first(dict, tag);
  if (typeof v !== 'string') return undefined;
  const t = v.replace(/[\0 ]+$/, '').trim();
  return t.length > 0 ? t : undefined;
}

function num(dict: Record<string, DcmjsElement>, tag: string): number | undefined {
  const v = first(dict, tag);
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

function nums(dict: Record<string, DcmjsElement>, tag: string, count: number): number[] | undefined {
  const v = dict[tag]?.Value;
  if (!Array.isArray(v) || v.length !== count) return undefined;
  const out = v.map((x) => (typeof x === 'number' ? x : Number(x)));
  return out.every((x) => Number.isFinite(x)) ? out : undefined;
}

function requiredUid(dict: Record<string, DcmjsElement>, tag: string, name: string): string {
  const v = text(dict, tag);
  if (!isValidUid(v)) {
    throw new InvalidInstanceError(`${name} (${tag.slice(0, 4)},${tag.slice(4)}) ${v === undefined ? 'missing' : 'is not a valid UID'}`);
  }
  return v;
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await fh.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Checks that a stored Part-10 file holds one complete dataset and extracts the attributes the
 * pipeline routes on. Reads (and for deflate, inflates) the file, walks every element header to
 * catch truncation, then lets dcmjs decode only the elements before pixel data.
 * Throws {@link DatasetParseError} (0xC000) or {@link InvalidInstanceError} naming the problem.
 */
export async function identifyStoredInstance(path: string, sizeBytes: number): Promise<InstanceIdentity> {
  if (sizeBytes <= WHOLE_READ_LIMIT) return identifyPart10(await readFile(path));
  // Large file: parse only its head; the header walk still needs every element header.
  const head = await readHead(path, 1 << 20);
  const layout = layoutOf(head);
  if (layout.transferSyntaxUid === TS_DEFLATED) return identifyPart10(await readFile(path));
  const whole = await readFile(path);
  const structure = walk(whole, layout.datasetOffset, layout.transferSyntaxUid);
  const headEnd = Math.min((structure.pixelDataOffset ?? whole.length) + 16, whole.length);
  return parseIdentity(Buffer.from(whole.subarray(0, headEnd)), layout.transferSyntaxUid);
}

/**
 * Same as {@link identifyStoredInstance} for a Part-10 image already in memory (the SCP keeps
 * the bytes it just wrote, so the hot path does not read the file back).
 */
export function identifyPart10(file: Buffer): InstanceIdentity {
  const layout = layoutOf(file);
  const ts = layout.transferSyntaxUid;
  if (ts === TS_DEFLATED) {
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(file.subarray(layout.datasetOffset));
    } catch (err) {
      throw new DatasetParseError(`deflated dataset does not inflate: ${(err as Error).message}`, { cause: err });
    }
    walk(inflated, 0, ts);
    return parseIdentity(file, ts);
  }
  const { pixelDataOffset } = walk(file, layout.datasetOffset, ts);
  // dcmjs needs only what precedes pixel data: hand it that, not the whole image.
  const headEnd = pixelDataOffset === undefined ? file.length : Math.min(pixelDataOffset + 16, file.length);
  return parseIdentity(file.subarray(0, headEnd), ts);
}

function layoutOf(file: Buffer): { datasetOffset: number; transferSyntaxUid: string } {
  try {
    return readPart10Layout(file);
  } catch (err) {
    throw new DatasetParseError((err as Error).message, { cause: err });
  }
}

function walk(buf: Buffer, start: number, ts: string): { pixelDataOffset?: number } {
  try {
    return checkDatasetStructure(buf, start, encodingOf(ts));
  } catch (err) {
    if (err instanceof DatasetStructureError) throw new DatasetParseError(err.message, { cause: err });
    throw err;
  }
}

function parseIdentity(file: Buffer, ts: string): InstanceIdentity {
  let dict: Record<string, DcmjsElement>;
  try {
    const ab = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
    dict = dcmjs.data.DicomMessage.readFile(ab, { ignoreErrors: true, untilTag: UNTIL_PIXEL_DATA, includeUntilTagValue: false }).dict;
  } catch (err) {
    throw new DatasetParseError(`dataset does not parse: ${(err as Error).message}`, { cause: err });
  }

  const identity: InstanceIdentity = {
    sopInstanceUid: requiredUid(dict, '00080018', 'SOPInstanceUID'),
    sopClassUid: requiredUid(dict, '00080016', 'SOPClassUID'),
    studyInstanceUid: requiredUid(dict, '0020000D', 'StudyInstanceUID'),
    seriesInstanceUid: requiredUid(dict, '0020000E', 'SeriesInstanceUID'),
    transferSyntaxUid: ts,
  };
  const optional: Partial<InstanceIdentity> = {
    modality: text(dict, '00080060'),
    seriesDescription: text(dict, '0008103E'),
    seriesNumber: num(dict, '00200011'),
    instanceNumber: num(dict, '00200013'),
    imageOrientationPatient: nums(dict, '00200037', 6),
    imagePositionPatient: nums(dict, '00200032', 3),
    bodyPartExamined: text(dict, '00180015'),
    rows: num(dict, '00280010'),
    columns: num(dict, '00280011'),
  };
  for (const [k, v] of Object.entries(optional)) {
    if (v !== undefined) (identity as unknown as Record<string, unknown>)[k] = v;
  }
  return identity;
}
