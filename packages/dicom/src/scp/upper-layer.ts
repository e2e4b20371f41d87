/**
 * The DICOM upper-layer state machine (PS3.8 9.2, Table 9-10) as far as an acceptor needs it:
 * which PDU is acceptable in which state, and what we answer otherwise. Checked on each PDU's
 * 6-byte header, before its body is buffered.
 */
import type { PduProblem } from './pdu-reader.js';

/** PDU types (PS3.8 9.3.1). */
export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PData: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;

/** A-ABORT source 2: the service provider (us, the upper layer) detected the problem (PS3.8 9.3.8). */
export const ABORT_SOURCE_PROVIDER = 2;

/** A-ABORT reasons with source 2 (PS3.8 Table 9-26). */
export const AbortReasonCode = {
  NotSpecified: 0,
  UnrecognizedPdu: 1,
  UnexpectedPdu: 2,
  UnrecognizedPduParameter: 4,
  UnexpectedPduParameter: 5,
  InvalidPduParameter: 6,
} as const;

/**
 * Where a connection stands. `awaiting-associate-rq` is Sta2 (transport open, ARTIM running),
 * `associated` is Sta6, `closing` is Sta13 (we answered with A-ASSOCIATE-RJ, A-RELEASE-RP or
 * A-ABORT and wait, at most ARTIM, for the peer to close). Sta3 (RQ being decided) takes no
 * time: we decide synchronously.
 */
export type UpperLayerState = 'awaiting-associate-rq' | 'associated' | 'closing';

/** What to do with a PDU, decided from its type alone. */
export type PduVerdict =
  /** Read it and hand it on (AE-6, DT-2, AR-2, AA-3). */
  | { action: 'accept' }
  /** Send A-ABORT (source 2, this reason) and close (AA-1 / AA-8). */
  | { action: 'abort'; reason: number }
  /** Close without answering (AA-2: an A-ABORT received before association, or anything in Sta13). */
  | { action: 'close' };

const KNOWN = new Set<number>(Object.values(PduType));

/** PS3.8 Table 9-10, rows for PDUs received, for an association acceptor. */
export function pduVerdict(state: UpperLayerState, pduType: number): PduVerdict {
  if (state === 'closing') return { action: 'close' };
  if (!KNOWN.has(pduType)) return { action: 'abort', reason: AbortReasonCode.UnrecognizedPdu };
  if (state === 'awaiting-associate-rq') {
    if (pduType === PduType.AssociateRq) return { action: 'accept' };
    if (pduType === PduType.Abort) return { action: 'close' };
    return { action: 'abort', reason: AbortReasonCode.UnexpectedPdu };
  }
  // Sta6: P-DATA, A-RELEASE-RQ and A-ABORT are expected; A-ASSOCIATE-RQ/AC/RJ and A-RELEASE-RP are not.
  if (pduType === PduType.PData || pduType === PduType.ReleaseRq || pduType === PduType.Abort) return { action: 'accept' };
  return { action: 'abort', reason: AbortReasonCode.UnexpectedPdu };
}

/** The A-ABORT reason for a stream the PDU reader refused. */
export function abortReasonFor(problem: PduProblem): number {
  return problem.kind === 'unrecognized-pdu' ? AbortReasonCode.UnrecognizedPdu : AbortReasonCode.InvalidPduParameter;
}
