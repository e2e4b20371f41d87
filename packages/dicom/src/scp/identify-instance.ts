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
  let file = sizeBytes <= WHOLE_READ_LIMIT ? await readFile(path) : await readHead(path, 1 << 20);
  let layout;
  try {
    layout = readPart10Layout(file);
  } catch (err) {
    throw new DatasetParseError((err as Error).message, { cause: err });
  }
  const ts = layout.transferSyntaxUid;

  try {
    if (ts === TS_DEFLATED) {
      if (file.length < sizeBytes) file = await readFile(path);
      let inflated: Buffer;
      try {
        inflated = inflateRawSync(file.subarray(layout.datasetOffset));
      } catch (err) {
        throw new DatasetParseError(`deflated dataset does not inflate: ${(err as Error).message}`, { cause: err });
      }
      checkDatasetStructure(inflated, 0, encodingOf(ts));
    } else if (file.length >= sizeBytes) {
      checkDatasetStructure(file, layout.datasetOffset, encodingOf(ts));
    } else {
      // Large file: walk headers over the whole file once, then parse only its head.
      const whole = await readFile(path);
      const structure = checkDatasetStructure(whole, layout.datasetOffset, encodingOf(ts));
      const headEnd = (structure.pixelDataOffset ?? whole.length) + 16;
      file = Buffer.from(whole.subarray(0, Math.min(headEnd, whole.length)));
    }
  } catch (err) {
    if (err instanceof DatasetStructureError) throw new DatasetParseError(err.message, { cause: err });
    throw err;
  }

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
