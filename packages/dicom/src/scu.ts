import { dimse, quietDimseLogs } from './dimse.js';

export interface StoreTarget {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  /** ms to connect, to wait for association acceptance, and for each response. */
  timeoutMs?: number;
  tls?: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string; rejectUnauthorized?: boolean };
}

export interface StoreResult {
  file: string;
  status: number;
  ok: boolean;
}

/** A-ASSOCIATE-RJ fields (PS3.8 9.3.4): result 1 permanent, 2 transient; source; reason. */
export interface AssociationRejection {
  result: number;
  source: number;
  reason: number;
}

export class StoreAssociationError extends Error {
  constructor(
    message: string,
    public readonly kind: 'rejected' | 'network' | 'closed-without-response' | 'timeout' | 'no-presentation-context',
    public readonly rejection?: AssociationRejection,
    /** Node's socket error code (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...) for kind `network`. */
    public readonly code?: string,
  ) {
    super(message);
    this.name = 'StoreAssociationError';
  }
}

/** C-STORE success and the warning statuses that still mean "stored" (PS3.4 GG.4-1, B.2.3). */
export function isStoreSuccess(status: number): boolean {
  return status === 0x0000 || status === 0xb000 || status === 0xb007 || status === 0xb006;
}

/**
 * Send Part-10 files over ONE association (C-STORE SCU). Resolves with a status per file;
 * rejects when the association fails. An association that closes before every response arrived
 * is a failure, never a silent success (a dcmjs-dimse pitfall).
 */
export async function storeFiles(
  target: StoreTarget,
  files: string[],
  onProgress?: (done: number, total: number, last: StoreResult) => void,
): Promise<StoreResult[]> {
  quietDimseLogs();
  const { Client, requests } = dimse;
  const client = new Client();
  const results: StoreResult[] = [];
  const timeout = target.timeoutMs ?? 30_000;

  const requestsSent: Array<{ getAffectedSopClassUid(): string }> = [];
  for (const file of files) {
    const request = new requests.CStoreRequest(file);
    requestsSent.push(request);
    request.on('response', (response: { getStatus(): number }) => {
      const status = response.getStatus();
      const r = { file, status, ok: isStoreSuccess(status) };
      results.push(r);
      onProgress?.(results.length, files.length, r);
    });
    client.addRequest(request);
  }

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    client.on('associationRejected', (r: { result?: number; source?: number; reason?: number }) => {
      const rejection = { result: r?.result ?? 0, source: r?.source ?? 0, reason: r?.reason ?? 0 };
      finish(new StoreAssociationError(`association rejected by ${target.calledAeTitle}: ${describeRejection(rejection)}`, 'rejected', rejection));
    });
    // A request with no accepted presentation context is skipped by dcmjs-dimse without a
    // response: note which SOP classes the peer refused so the failure says so.
    const refused: string[] = [];
    client.on('associationAccepted', (association: { getAcceptedPresentationContextFromRequest(r: unknown): unknown }) => {
      for (const [i, request] of requestsSent.entries()) {
        if (!association.getAcceptedPresentationContextFromRequest(request)) refused.push(`${files[i]!.split(/[\\/]/).pop()} (${request.getAffectedSopClassUid()})`);
      }
    });
    client.on('networkError', (e: Error & { code?: string }) => {
      const code = e.code ?? (/timeout|timed out/i.test(e.message) ? 'ETIMEDOUT' : undefined);
      finish(new StoreAssociationError(`network error talking to ${target.host}:${target.port}: ${e.message}`, code === 'ETIMEDOUT' ? 'timeout' : 'network', undefined, code));
    });
    client.on('closed', () => {
      if (refused.length > 0 && results.length < files.length) {
        finish(new StoreAssociationError(`${target.calledAeTitle} accepted no presentation context for ${refused.join(', ')}`, 'no-presentation-context'));
      } else if (results.length < files.length) {
        finish(new StoreAssociationError(`association closed after ${results.length}/${files.length} responses`, 'closed-without-response'));
      } else finish();
    });
    client.send(target.host, target.port, target.callingAeTitle, target.calledAeTitle, {
      connectTimeout: timeout,
      associationTimeout: timeout,
      pduTimeout: timeout,
      ...(target.tls ? { securityOptions: { ...target.tls, rejectUnauthorized: target.tls.rejectUnauthorized ?? true } } : {}),
    });
    // Without TCP_NODELAY every DIMSE exchange waits ~40 ms on Nagle + delayed ACK.
    // dcmjs-dimse has no option for it; its network object keeps the socket it just opened.
    (client as unknown as { network?: { socket?: { setNoDelay?(v: boolean): void } } }).network?.socket?.setNoDelay?.(true);
  });
  return results;
}

const REJECT_REASONS: Record<number, Record<number, string>> = {
  1: { 1: 'no reason given', 2: 'application context name not supported', 3: 'calling AE title not recognized', 7: 'called AE title not recognized' },
  2: { 1: 'no reason given', 2: 'protocol version not supported' },
  3: { 1: 'temporary congestion', 2: 'local limit exceeded' },
};
const REJECT_SOURCES: Record<number, string> = { 1: 'service user', 2: 'service provider (ACSE)', 3: 'service provider (presentation)' };

/** "rejected-permanent by service user: called AE title not recognized (result 1, source 1, reason 7)". */
export function describeRejection(r: AssociationRejection): string {
  const result = r.result === 1 ? 'rejected-permanent' : r.result === 2 ? 'rejected-transient' : `result ${r.result}`;
  const why = REJECT_REASONS[r.source]?.[r.reason] ?? `reason ${r.reason}`;
  return `${result} by ${REJECT_SOURCES[r.source] ?? `source ${r.source}`}: ${why} (result ${r.result}, source ${r.source}, reason ${r.reason})`;
}
