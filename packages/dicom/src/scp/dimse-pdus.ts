/**
 * The few upper-layer PDUs and DIMSE command sets the SCP writes or reads itself (PS3.8 9.3,
 * PS3.7 9.3), byte by byte: the hot C-STORE path and the protocol-error answers.
 */

/** A-ABORT PDU (PS3.8 9.3.8). */
export function abortPdu(source: number, reason: number): Buffer {
  return Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, source, reason]);
}

function commandElement(element: number, value: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0x0000, 0);
  h.writeUInt16LE(element, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}

function paddedValue(text: string, pad: number): Buffer {
  const b = Buffer.from(text, 'latin1');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from([pad])]);
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return b;
}

/**
 * A complete P-DATA-TF PDU carrying a C-STORE-RSP command set (implicit VR little endian,
 * PS3.7 9.3.1.2), elements in ascending tag order. Status and comment are ours; UIDs come from
 * the request as dcmjs-dimse decoded it.
 */
export function cStoreResponsePdu(job: { sopClassUid: string; sopInstanceUid: string; presentationContextId: number; messageId: number }, answer: { status: number; comment?: string }): Buffer {
  const elements = [
    commandElement(0x0002, paddedValue(job.sopClassUid, 0x00)),
    commandElement(0x0100, u16(0x8001)),
    commandElement(0x0120, u16(job.messageId)),
    commandElement(0x0800, u16(0x0101)),
    commandElement(0x0900, u16(answer.status)),
  ];
  if (answer.comment) {
    elements.push(commandElement(0x0902, paddedValue(answer.comment.replace(/[\\\r\n]/g, ' ').slice(0, 64), 0x20)));
  }
  elements.push(commandElement(0x1000, paddedValue(job.sopInstanceUid, 0x00)));
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  const command = Buffer.concat([commandElement(0x0000, groupLength), body]);
  const pdu = Buffer.alloc(12);
  pdu.writeUInt8(0x04, 0);
  pdu.writeUInt32BE(6 + command.length, 2);
  pdu.writeUInt32BE(2 + command.length, 6);
  pdu.writeUInt8(job.presentationContextId, 10);
  pdu.writeUInt8(0x03, 11); // command, last fragment
  return Buffer.concat([pdu, command]);
}

export interface Pdv {
  pcId: number;
  command: boolean;
  last: boolean;
  value: Buffer;
}

/** Splits a P-DATA-TF PDU (header included) into its PDVs, as views; undefined when malformed. */
export function splitPdvs(pdu: Buffer): Pdv[] | undefined {
  const end = 6 + pdu.readUInt32BE(2);
  if (end > pdu.length) return undefined;
  const out: Pdv[] = [];
  let pos = 6;
  while (pos < end) {
    if (pos + 6 > end) return undefined;
    const len = pdu.readUInt32BE(pos);
    if (len < 2 || pos + 4 + len > end) return undefined;
    const hdr = pdu[pos + 5] ?? 0;
    out.push({ pcId: pdu[pos + 4] ?? 0, command: (hdr & 1) === 1, last: (hdr & 2) === 2, value: pdu.subarray(pos + 6, pos + 4 + len) });
    pos += 4 + len;
  }
  return out;
}

/** The fields of a DIMSE command set (implicit VR little endian, group 0000) that C-STORE needs. */
export function readCommandSet(buf: Buffer): { commandField: number; messageId: number; dataSetType: number; sopClassUid: string; sopInstanceUid: string } | undefined {
  let pos = 0;
  let commandField: number | undefined;
  let messageId = 0;
  let dataSetType = 0x0101;
  let sopClassUid = '';
  let sopInstanceUid = '';
  while (pos + 8 <= buf.length) {
    const group = buf.readUInt16LE(pos);
    const element = buf.readUInt16LE(pos + 2);
    const len = buf.readUInt32LE(pos + 4);
    const v = pos + 8;
    if (group !== 0x0000 || v + len > buf.length) return undefined;
    // A complete command set starts with its group length, which must cover the rest exactly.
    if (pos === 0 && (element !== 0x0000 || len !== 4 || buf.readUInt32LE(v) !== buf.length - 12)) return undefined;
    if (element === 0x0002) sopClassUid = buf.toString('latin1', v, v + len);
    else if (element === 0x0100 && len >= 2) commandField = buf.readUInt16LE(v);
    else if (element === 0x0110 && len >= 2) messageId = buf.readUInt16LE(v);
    else if (element === 0x0800 && len >= 2) dataSetType = buf.readUInt16LE(v);
    else if (element === 0x1000) sopInstanceUid = buf.toString('latin1', v, v + len);
    pos = v + len;
  }
  return commandField === undefined ? undefined : { commandField, messageId, dataSetType, sopClassUid, sopInstanceUid };
}

/** A-ASSOCIATE-RJ PDU (PS3.8 9.3.4): result (1 permanent, 2 transient), source, reason/diag. */
export function associateRjPdu(result: number, source: number, reason: number): Buffer {
  return Buffer.from([0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, result, source, reason]);
}
