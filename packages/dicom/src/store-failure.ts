import { StoreAssociationError, isStoreSuccess, type StoreResult } from './scu.js';

/**
 * Whether a failed C-STORE delivery is worth retrying. Transient: the peer is down, busy or the
 * connection broke (refused, reset, timeout, association closed or aborted without responses,
 * A-ASSOCIATE-RJ result 2, C-STORE 0xA7xx "out of resources"). Permanent: retrying cannot help
 * (A-ASSOCIATE-RJ result 1, SOP class refused, 0xA9xx "does not match SOP class", 0xCxxx "cannot
 * understand", 0x0122 "SOP class not supported", 0x0124 "not authorized", ...). Unknown
 * failures are transient: they are retried until the give-up time, never dropped.
 */
export interface StoreFailure {
  permanent: boolean;
  /**
   * A short fixed word for the failure (a metrics label: bounded, no peer names): the association
   * error's kind (rejected, network, timeout, closed-without-response, no-presentation-context),
   * `status-<hex>` with the DIMSE status's high byte for C-STORE responses (e.g. status-a7xx), or `error`.
   */
  kind: string;
  /** In words, with the status or rejection fields, e.g. "0xA900 dataset does not match SOP class (permanent)". */
  reason: string;
  /** The first failing DIMSE status, when the failure was a C-STORE response. */
  status?: number;
}

const hex = (s: number) => `0x${s.toString(16).toUpperCase().padStart(4, '0')}`;

/** PS3.4 Annex B.2.3 / PS3.7 Annex C: the meaning of a C-STORE status and whether it is permanent. */
export function describeStoreStatus(status: number): { meaning: string; permanent: boolean } {
  if (isStoreSuccess(status)) return { meaning: 'success', permanent: false };
  if ((status & 0xff00) === 0xa700) return { meaning: 'refused: out of resources', permanent: false };
  if ((status & 0xff00) === 0xa900) return { meaning: 'error: dataset does not match SOP class', permanent: true };
  if ((status & 0xf000) === 0xc000) return { meaning: 'error: cannot understand', permanent: true };
  switch (status) {
    case 0x0122:
      return { meaning: 'refused: SOP class not supported', permanent: true };
    case 0x0124:
      return { meaning: 'refused: not authorized', permanent: true };
    case 0x0111:
      return { meaning: 'duplicate SOP instance', permanent: true };
    case 0x0117:
      return { meaning: 'invalid SOP instance', permanent: true };
    case 0x0210:
      return { meaning: 'duplicate invocation', permanent: false };
    case 0x0211:
      return { meaning: 'unrecognized operation', permanent: true };
    case 0x0212:
      return { meaning: 'mistyped argument', permanent: true };
    case 0x0213:
      return { meaning: 'resource limitation', permanent: false };
    case 0x0110:
      return { meaning: 'processing failure', permanent: false };
    default:
      return { meaning: 'unknown failure status', permanent: false };
  }
}

/** Classify the failing results of a completed association (at least one not ok). */
export function classifyStoreResults(results: StoreResult[], peer: string): StoreFailure | null {
  const bad = results.filter((r) => !r.ok);
  if (bad.length === 0) return null;
  const described = bad.map((b) => ({ status: b.status, ...describeStoreStatus(b.status) }));
  const permanent = described.some((d) => d.permanent);
  const first = described.find((d) => d.permanent) ?? described[0]!;
  return {
    permanent,
    kind: statusKind(first.status),
    status: first.status,
    reason: `${peer} answered ${described.map((d) => `${hex(d.status)} ${d.meaning}`).join(', ')} (${permanent ? 'permanent' : 'transient'})`,
  };
}

/** `status-a7xx`, `status-c0xx`, ... for classes of statuses; the exact hex for the single-valued ones. */
function statusKind(status: number): string {
  const h = status.toString(16).toLowerCase().padStart(4, '0');
  return (status & 0xf000) === 0xa000 || (status & 0xf000) === 0xc000 ? `status-${h.slice(0, 2)}xx` : `status-${h}`;
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

/** Classify an error thrown by storeFiles (or by preparing the send: a TLS file, a stored file). */
export function classifyStoreError(err: unknown): StoreFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof StoreAssociationError) {
    switch (err.kind) {
      case 'rejected':
        return { permanent: err.rejection?.result === 1, kind: err.kind, reason: `${message} (${err.rejection?.result === 1 ? 'permanent' : 'transient'})` };
      case 'no-presentation-context':
        return { permanent: true, kind: err.kind, reason: `${message} (permanent)` };
      case 'network':
        return { permanent: false, kind: err.kind, reason: `${message}${err.code && !TRANSIENT_CODES.has(err.code) ? ` [${err.code}]` : ''} (transient)` };
      default:
        return { permanent: false, kind: err.kind, reason: `${message} (transient)` };
    }
  }
  return { permanent: false, kind: 'error', reason: `${message} (transient)` };
}
