import { uidFromName } from '../uid.js';

/** Our Implementation Class UID, derived deterministically so every build announces the same one. */
export const IMPLEMENTATION_CLASS_UID = uidFromName('ldh-triage:implementation-class:1');
/** Implementation Version Name (SH, ≤ 16 chars). */
export const IMPLEMENTATION_VERSION_NAME = 'LDH_SCP_0_1';

/** Fields of the File Meta Information group that we write in front of the received dataset. */
export interface FileMetaFields {
  mediaStorageSopClassUid: string;
  mediaStorageSopInstanceUid: string;
  transferSyntaxUid: string;
  sourceApplicationEntityTitle?: string;
}

function element(group: number, elem: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(elem, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

function padded(text: string, pad: string): Buffer {
  const b = Buffer.from(text, 'latin1');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from(pad, 'latin1')]);
}

/**
 * The 128-byte preamble, "DICM" and group 0002 (explicit VR little endian, PS3.10 7.1).
 * The network carries only the dataset; a Part-10 file needs this header, and writing it
 * ourselves (instead of re-encoding through a parser) keeps the dataset bytes untouched.
 */
export function buildPart10Header(fields: FileMetaFields): Buffer {
  const elems = [
    element(0x0002, 0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 0x0002, 'UI', padded(fields.mediaStorageSopClassUid, '\0')),
    element(0x0002, 0x0003, 'UI', padded(fields.mediaStorageSopInstanceUid, '\0')),
    element(0x0002, 0x0010, 'UI', padded(fields.transferSyntaxUid, '\0')),
    element(0x0002, 0x0012, 'UI', padded(IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x0002, 0x0013, 'SH', padded(IMPLEMENTATION_VERSION_NAME, ' ')),
  ];
  const aet = fields.sourceApplicationEntityTitle?.trim();
  if (aet) elems.push(element(0x0002, 0x0016, 'AE', padded(aet.slice(0, 16), ' ')));
  const body = Buffer.concat(elems);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  const preamble = Buffer.alloc(132);
  preamble.write('DICM', 128, 'latin1');
  return Buffer.concat([preamble, element(0x0002, 0x0000, 'UL', groupLength), body]);
}

/** Where the dataset starts in a Part-10 buffer and its transfer syntax, read from group 0002. */
export interface Part10Layout {
  datasetOffset: number;
  transferSyntaxUid: string;
}

/**
 * Reads the meta group of a Part-10 file (written by us or anyone) without a full parser: we
 * only need the dataset offset and transfer syntax to check and parse the rest.
 */
export function readPart10Layout(buf: Buffer): Part10Layout {
  if (buf.length < 144 || buf.toString('latin1', 128, 132) !== 'DICM') {
    throw new Error('not a Part-10 file: "DICM" prefix missing');
  }
  let pos = 132;
  let transferSyntaxUid: string | undefined;
  let end = Number.POSITIVE_INFINITY;
  while (pos + 8 <= buf.length && pos < end) {
    const group = buf.readUInt16LE(pos);
    if (group !== 0x0002) break;
    const elem = buf.readUInt16LE(pos + 2);
    const vr = buf.toString('latin1', pos + 4, pos + 6);
    let len: number;
    let valuePos: number;
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV'].includes(vr)) {
      if (pos + 12 > buf.length) break;
      len = buf.readUInt32LE(pos + 8);
      valuePos = pos + 12;
    } else {
      len = buf.readUInt16LE(pos + 6);
      valuePos = pos + 8;
    }
    if (valuePos + len > buf.length) throw new Error(`file meta element (0002,${elem.toString(16).padStart(4, '0')}) truncated`);
    if (elem === 0x0000 && len === 4) end = valuePos + 4 + buf.readUInt32LE(valuePos);
    if (elem === 0x0010) transferSyntaxUid = buf.toString('latin1', valuePos, valuePos + len).replace(/[\0 ]+$/, '');
    pos = valuePos + len;
  }
  if (pos < end && Number.isFinite(end)) throw new Error(`file meta truncated: its group length ends at ${end}, the data at ${pos}`);
  if (!transferSyntaxUid) throw new Error('file meta has no (0002,0010) TransferSyntaxUID');
  return { datasetOffset: pos, transferSyntaxUid };
}
