import { closeSync, fstatSync, openSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { CharsetError, characterSetTerms, decodeText, splitTextValues } from '../charset.js';
import { isValidUid } from '../uid.js';
import { checkDatasetStructure, DatasetStructureError, type Bytes, type DatasetEncoding, type DatasetStructure } from './dataset-structure.js';
import { DatasetParseError, InvalidInstanceError } from './errors.js';
import { FileBytes } from './file-bytes.js';
import { frameIdentityOf, FUNCTIONAL_GROUPS_CAPTURE, NUMBER_OF_FRAMES_TAG, type FrameIdentity } from './frame-geometry.js';
import { readPart10Layout } from './part10-meta.js';

/**
 * Identifying attributes of a received instance (no PHI: PatientID etc. are never read out).
 * A multi-frame with functional groups (Enhanced MR) also gets its per-frame facts
 * ({@link FrameIdentity}); its top-level position/orientation are then frame 1's.
 */
export interface InstanceIdentity extends FrameIdentity {
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

const TAG = {
  SpecificCharacterSet: 0x00080005,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  Modality: 0x00080060,
  SeriesDescription: 0x0008103e,
  BodyPartExamined: 0x00180015,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  SeriesNumber: 0x00200011,
  InstanceNumber: 0x00200013,
  ImagePositionPatient: 0x00200032,
  ImageOrientationPatient: 0x00200037,
  Rows: 0x00280010,
  Columns: 0x00280011,
} as const;
const WANTED: ReadonlySet<number> = new Set(Object.values(TAG));
/** Longer than any value the wanted tags' VRs allow (UI 64, LO 64, DS 16 per value, ...): refused, not read. */
const MAX_IDENTITY_VALUE_BYTES = 64 * 1024;
/** VRs of the wanted tags, for implicit VR datasets (PS3.6). */
const IMPLICIT_VR: ReadonlyMap<number, string> = new Map([
  [TAG.Rows, 'US'],
  [TAG.Columns, 'US'],
]);

function encodingOf(transferSyntaxUid: string): DatasetEncoding {
  if (transferSyntaxUid === TS_IMPLICIT_LE) return { littleEndian: true, explicitVr: false };
  if (transferSyntaxUid === TS_EXPLICIT_BE) return { littleEndian: false, explicitVr: true };
  return { littleEndian: true, explicitVr: true };
}

function layoutOf(file: Buffer): { datasetOffset: number; transferSyntaxUid: string } {
  try {
    return readPart10Layout(file);
  } catch (err) {
    throw new DatasetParseError((err as Error).message, { cause: err });
  }
}

/** Top-level tags the walk records: the identity's plus the frame count. */
const WANTED_WITH_FRAMES: ReadonlySet<number> = new Set([...WANTED, NUMBER_OF_FRAMES_TAG]);

function walk(buf: Bytes, start: number, ts: string): DatasetStructure {
  try {
    return checkDatasetStructure(buf, start, encodingOf(ts), WANTED_WITH_FRAMES, FUNCTIONAL_GROUPS_CAPTURE);
  } catch (err) {
    if (err instanceof DatasetStructureError) throw new DatasetParseError(err.message, { cause: err });
    throw err;
  }
}

/**
 * Decodes the identifying attributes from the value positions the structure walk recorded:
 * a handful of short top-level strings and two US values, so no general DICOM parser is needed.
 */
function decodeIdentity(buf: Bytes, s: DatasetStructure, ts: string): InstanceIdentity {
  const le = ts !== TS_EXPLICIT_BE;
  const raw = (tag: number): Buffer | undefined => {
    const v = s.values.get(tag);
    if (!v) return undefined;
    if (v.length > MAX_IDENTITY_VALUE_BYTES) {
      const hex = tag.toString(16).toUpperCase().padStart(8, '0');
      throw new InvalidInstanceError(`(${hex.slice(0, 4)},${hex.slice(4)}) has a ${v.length}-byte value: too long for its VR`);
    }
    return buf.subarray(v.offset, v.offset + v.length);
  };
  const strings = (tag: number): string[] | undefined => {
    const b = raw(tag);
    if (!b) return undefined;
    return b.toString('latin1').split('\\').map((x) => x.replace(/[\0 ]+$/, '').trim());
  };
  const text = (tag: number): string | undefined => {
    const v = strings(tag)?.[0];
    return v ? v : undefined;
  };
  const characterSet = characterSetTerms(raw(TAG.SpecificCharacterSet)?.toString('latin1'));
  /**
   * A text value decoded with the instance's Specific Character Set (ISO 2022 included). Text
   * that cannot be decoded must not refuse the C-STORE (the bytes are stored as sent): the
   * field is left empty (null in Postgres) and routing, which re-reads the header, names it.
   */
  const decoded = (tag: number, vr: string, keyword: string): string | undefined => {
    const b = raw(tag);
    if (!b) return undefined;
    try {
      return splitTextValues(decodeText(b, characterSet, vr, keyword), vr)[0] || undefined;
    } catch (err) {
      if (err instanceof CharsetError) return undefined;
      throw err;
    }
  };
  const numbers = (tag: number, count: number): number[] | undefined => {
    const v = strings(tag);
    if (!v || v.length !== count) return undefined;
    const out = v.map(Number);
    return out.every((x) => Number.isFinite(x)) && v.every((x) => x.length > 0) ? out : undefined;
  };
  const integer = (tag: number): number | undefined => {
    const v = text(tag);
    const n = v === undefined ? Number.NaN : Number(v);
    return Number.isInteger(n) ? n : undefined;
  };
  const us = (tag: number): number | undefined => {
    const v = s.values.get(tag);
    if (!v || v.length < 2 || (v.vr ?? IMPLICIT_VR.get(tag)) !== 'US') return undefined;
    return le ? buf.readUInt16LE(v.offset) : buf.readUInt16BE(v.offset);
  };
  const uid = (tag: number, name: string): string => {
    const v = text(tag);
    if (!isValidUid(v)) {
      const hex = tag.toString(16).toUpperCase().padStart(8, '0');
      throw new InvalidInstanceError(`${name} (${hex.slice(0, 4)},${hex.slice(4)}) ${v === undefined ? 'missing' : 'is not a valid UID'}`);
    }
    return v;
  };

  const identity: InstanceIdentity = {
    sopInstanceUid: uid(TAG.SOPInstanceUID, 'SOPInstanceUID'),
    sopClassUid: uid(TAG.SOPClassUID, 'SOPClassUID'),
    studyInstanceUid: uid(TAG.StudyInstanceUID, 'StudyInstanceUID'),
    seriesInstanceUid: uid(TAG.SeriesInstanceUID, 'SeriesInstanceUID'),
    transferSyntaxUid: ts,
  };
  const optional: Partial<InstanceIdentity> = {
    modality: text(TAG.Modality),
    seriesDescription: decoded(TAG.SeriesDescription, 'LO', 'SeriesDescription'),
    seriesNumber: integer(TAG.SeriesNumber),
    instanceNumber: integer(TAG.InstanceNumber),
    imageOrientationPatient: numbers(TAG.ImageOrientationPatient, 6),
    imagePositionPatient: numbers(TAG.ImagePositionPatient, 3),
    bodyPartExamined: text(TAG.BodyPartExamined),
    rows: us(TAG.Rows),
    columns: us(TAG.Columns),
  };
  for (const [k, v] of Object.entries(optional)) {
    if (v !== undefined) (identity as unknown as Record<string, unknown>)[k] = v;
  }
  return identity;
}

/**
 * {@link decodeIdentity} plus the per-frame facts of a multi-frame with functional groups. An
 * Enhanced MR has no top-level ImagePositionPatient/ImageOrientationPatient: frame 1's stand in,
 * so consumers of the instance row that know nothing of frames still see its plane.
 */
function decodeWithFrames(buf: Bytes, s: DatasetStructure, ts: string): InstanceIdentity {
  const identity = decodeIdentity(buf, s, ts);
  const frames = frameIdentityOf(buf, s, ts !== TS_EXPLICIT_BE);
  if (frames.numberOfFrames !== undefined) identity.numberOfFrames = frames.numberOfFrames;
  if (frames.frameGeometryError !== undefined) identity.frameGeometryError = frames.frameGeometryError;
  if (frames.frames) {
    identity.frames = frames.frames;
    const first = frames.frames[0];
    if (identity.imagePositionPatient === undefined && first?.imagePositionPatient) identity.imagePositionPatient = first.imagePositionPatient;
    if (identity.imageOrientationPatient === undefined && first?.imageOrientationPatient) identity.imageOrientationPatient = first.imageOrientationPatient;
  }
  return identity;
}

/**
 * Checks that a Part-10 image in memory holds one complete dataset (every element header is
 * walked, sequences and encapsulated pixel data followed, deflate inflated) and extracts the
 * attributes the pipeline routes on. Throws {@link DatasetParseError} (0xC000) or
 * {@link InvalidInstanceError} naming the problem.
 */
export function identifyPart10(file: Buffer): InstanceIdentity {
  const layout = layoutOf(file);
  return identifyDataset(file.subarray(layout.datasetOffset), layout.transferSyntaxUid);
}

/**
 * {@link identifyPart10} for a dataset without its meta header, as received over the network
 * (the transfer syntax is the presentation context's): no concatenated copy of the file needed.
 */
export function identifyDataset(dataset: Buffer, transferSyntaxUid: string): InstanceIdentity {
  const ts = transferSyntaxUid;
  if (ts === TS_DEFLATED) {
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(dataset);
    } catch (err) {
      throw new DatasetParseError(`deflated dataset does not inflate: ${(err as Error).message}`, { cause: err });
    }
    return decodeWithFrames(inflated, walk(inflated, 0, ts), ts);
  }
  return decodeWithFrames(dataset, walk(dataset, 0, ts), ts);
}

/** Bytes read to find the file meta header's end (it is a few hundred bytes in practice). */
const META_HEAD_BYTES = 64 * 1024;

/**
 * {@link identifyPart10} for a stored file (datasets too large to keep in memory while
 * receiving), with memory bounded whatever the file's size: the header walk reads the file
 * through a 64 KiB window ({@link FileBytes}) and skips over pixel data. Deflated datasets are
 * the exception: they are inflated whole (as in memory), which bounds nothing; they are rare
 * and small in practice.
 */
export async function identifyStoredInstance(path: string): Promise<InstanceIdentity> {
  return identifyFile(path).identity;
}

/** {@link identifyStoredInstance}, also reporting how many bytes it read (for tests). */
export function identifyFile(path: string): { identity: InstanceIdentity; bytesRead: number } {
  const fd = openSync(path, 'r');
  try {
    const bytes = new FileBytes(fd, fstatSync(fd).size);
    // The meta header is a few hundred bytes: read 4 KiB, and up to 64 KiB only if it is longer.
    let layout: { datasetOffset: number; transferSyntaxUid: string };
    try {
      layout = layoutOf(bytes.subarray(0, Math.min(bytes.length, 4096)));
    } catch (err) {
      if (bytes.length <= 4096) throw err;
      layout = layoutOf(bytes.subarray(0, Math.min(bytes.length, META_HEAD_BYTES)));
    }
    let identity: InstanceIdentity;
    if (layout.transferSyntaxUid === TS_DEFLATED) {
      identity = identifyDataset(bytes.subarray(layout.datasetOffset, bytes.length), layout.transferSyntaxUid);
    } else {
      const ts = layout.transferSyntaxUid;
      identity = decodeWithFrames(bytes, walk(bytes, layout.datasetOffset, ts), ts);
    }
    return { identity, bytesRead: bytes.bytesRead };
  } finally {
    closeSync(fd);
  }
}
