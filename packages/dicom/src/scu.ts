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

export class StoreAssociationError extends Error {
  constructor(
    message: string,
    public readonly kind: 'rejected' | 'network' | 'closed-without-response' | 'timeout',
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

  for (const file of files) {
    const request = new requests.CStoreRequest(file);
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
    client.on('associationRejected', (result: { result?: number; source?: number; reason?: number }) =>
      finish(new StoreAssociationError(`association rejected by ${target.calledAeTitle} (result ${result?.result}, source ${result?.source}, reason ${result?.reason})`, 'rejected')),
    );
    client.on('networkError', (e: Error) => finish(new StoreAssociationError(`network error talking to ${target.host}:${target.port}: ${e.message}`, 'network')));
    client.on('closed', () => {
      if (results.length < files.length) {
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
