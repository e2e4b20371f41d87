/**
 * Splits an association's byte stream into DICOM upper-layer PDUs (PS3.8 9.3) in place of
 * dcmjs-dimse's reader, which concatenates every PDU that straddles two socket reads and goes
 * through an async event per PDU. Headers are checked before anything is buffered (unknown type
 * or over the length limit: rejected at once). P-DATA-TF PDUs that carry the dataset of a
 * C-STORE in progress are not assembled at all: their PDV values are handed on as slices of the
 * socket's own chunks (no copy), which is where almost all of an association's bytes go.
 */

/** What the reader reports to its connection. */
export interface PduReaderHandlers {
  /** True when the next P-DATA-TF PDU should be streamed as PDV fragments (a dataset is being received). */
  streamPData(): boolean;
  /** A complete PDU (6-byte header included) that is not streamed. */
  onPdu(pdu: Buffer): void;
  /** A streamed PDV begins; return false to stop reading (the handler has dealt with the error). */
  onPdvStart(pdv: { pcId: number; command: boolean; last: boolean; length: number }): boolean;
  /** Value bytes of the current streamed PDV, in order; `chunk` is only valid during the call unless kept. */
  onPdvData(chunk: Buffer): void;
  /** The current streamed PDV is complete. */
  onPdvEnd(): void;
  /**
   * Optional: called with each PDU's type and length once its 6-byte header is in, before any of
   * its body is buffered. Return false to stop reading (the handler has answered and closes).
   */
  admitPdu?(pduType: number, length: number): boolean;
  /** A PDU header or PDV header is invalid; the reader has stopped. */
  onInvalid(problem: PduProblem): void;
}

/** Why the stream was rejected (for the A-ABORT reason and a log line; no PHI). */
export interface PduProblem {
  kind: 'unrecognized-pdu' | 'pdu-too-long' | 'malformed-pdv';
  pduType: number;
  length: number;
  limit?: number;
}

const PDU_TYPES = new Set([1, 2, 3, 4, 5, 6, 7]);
const P_DATA_TF = 0x04;
const HEADER = 6;

type State =
  | { at: 'pdu-header' }
  | { at: 'pdu-body'; pdu: Buffer; filled: number }
  | { at: 'pdv-header'; pduLeft: number }
  | { at: 'pdv-value'; pduLeft: number; valueLeft: number };

/** Incremental PDU reader for one connection: feed it every socket chunk with {@link PduReader.push}. */
export class PduReader {
  private state: State = { at: 'pdu-header' };
  /** Partial 6-byte PDU or PDV header carried over from the previous chunk. */
  private partial = Buffer.alloc(HEADER);
  private partialLength = 0;
  private stopped = false;

  constructor(
    private readonly handlers: PduReaderHandlers,
    private readonly limits: { maxPDataLength: number; maxOtherLength: number },
  ) {}

  /** Stops processing (after an abort); later chunks are ignored. */
  stop(): void {
    this.stopped = true;
  }

  /** Bytes held for the PDU being assembled (0 while streaming PDVs or between PDUs); at most the limit + 6. */
  get bufferedBytes(): number {
    return this.state.at === 'pdu-body' ? this.state.pdu.length : 0;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.stopped) {
      pos = this.step(chunk, pos);
    }
  }

  private step(chunk: Buffer, pos: number): number {
    const s = this.state;
    switch (s.at) {
      case 'pdu-header': {
        const header = this.takeHeader(chunk, pos);
        if (!header) return chunk.length;
        this.startPdu(header.bytes);
        return header.next;
      }
      case 'pdu-body': {
        const n = Math.min(s.pdu.length - s.filled, chunk.length - pos);
        chunk.copy(s.pdu, s.filled, pos, pos + n);
        s.filled += n;
        if (s.filled === s.pdu.length) this.finishPdu(s.pdu);
        return pos + n;
      }
      case 'pdv-header': {
        const header = this.takeHeader(chunk, pos);
        if (!header) return chunk.length;
        this.startPdv(header.bytes, s.pduLeft);
        return header.next;
      }
      case 'pdv-value': {
        const n = Math.min(s.valueLeft, chunk.length - pos);
        if (n > 0) this.handlers.onPdvData(chunk.subarray(pos, pos + n));
        s.valueLeft -= n;
        s.pduLeft -= n;
        if (s.valueLeft === 0) this.endPdv(s.pduLeft);
        return pos + n;
      }
    }
  }

  /**
   * The 6 header bytes at `pos` (a view of the chunk when they are all there, else collected
   * across chunks); undefined while incomplete.
   */
  private takeHeader(chunk: Buffer, pos: number): { bytes: Buffer; next: number } | undefined {
    if (this.partialLength === 0 && chunk.length - pos >= HEADER) {
      return { bytes: chunk.subarray(pos, pos + HEADER), next: pos + HEADER };
    }
    const n = Math.min(HEADER - this.partialLength, chunk.length - pos);
    chunk.copy(this.partial, this.partialLength, pos, pos + n);
    this.partialLength += n;
    if (this.partialLength < HEADER) return undefined;
    this.partialLength = 0;
    return { bytes: Buffer.from(this.partial), next: pos + n };
  }

  private startPdu(header: Buffer): void {
    const type = header[0] ?? 0;
    const length = header.readUInt32BE(2);
    if (!PDU_TYPES.has(type)) {
      this.fail({ kind: 'unrecognized-pdu', pduType: type, length });
      return;
    }
    if (this.handlers.admitPdu && !this.handlers.admitPdu(type, length)) {
      this.stopped = true;
      return;
    }
    const limit = type === P_DATA_TF ? this.limits.maxPDataLength : this.limits.maxOtherLength;
    if (length > limit) {
      this.fail({ kind: 'pdu-too-long', pduType: type, length, limit });
      return;
    }
    if (type === P_DATA_TF && length > 0 && this.handlers.streamPData()) {
      this.state = { at: 'pdv-header', pduLeft: length };
      return;
    }
    const pdu = Buffer.allocUnsafe(HEADER + length);
    header.copy(pdu, 0, 0, HEADER);
    if (length === 0) this.finishPdu(pdu);
    else this.state = { at: 'pdu-body', pdu, filled: HEADER };
  }

  private finishPdu(pdu: Buffer): void {
    this.state = { at: 'pdu-header' };
    this.handlers.onPdu(pdu);
  }

  private startPdv(header: Buffer, pduLeft: number): void {
    const length = header.readUInt32BE(0);
    // The item length counts the 2 control bytes; the PDV must lie inside its PDU.
    if (length < 2 || HEADER + length - 2 > pduLeft) {
      this.fail({ kind: 'malformed-pdv', pduType: P_DATA_TF, length });
      return;
    }
    const control = header[5] ?? 0;
    const ok = this.handlers.onPdvStart({ pcId: header[4] ?? 0, command: (control & 1) === 1, last: (control & 2) === 2, length: length - 2 });
    if (!ok) {
      this.stopped = true;
      return;
    }
    const valueLeft = length - 2;
    this.state = { at: 'pdv-value', pduLeft: pduLeft - HEADER, valueLeft };
    if (valueLeft === 0) this.endPdv(pduLeft - HEADER);
  }

  private endPdv(pduLeft: number): void {
    this.handlers.onPdvEnd();
    if (this.stopped) return;
    if (pduLeft === 0) this.state = { at: 'pdu-header' };
    else if (pduLeft < HEADER) this.fail({ kind: 'malformed-pdv', pduType: P_DATA_TF, length: pduLeft });
    else this.state = { at: 'pdv-header', pduLeft };
  }

  private fail(problem: PduProblem): void {
    this.stopped = true;
    this.handlers.onInvalid(problem);
  }
}
