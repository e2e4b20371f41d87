/**
 * The dcmjs-dimse side of one association (PS3.7/PS3.8 service user callbacks): admission
 * (called AE, calling AE/IP allow-list, association limit), presentation-context negotiation,
 * C-ECHO, and the C-STORE hooks that stream each dataset into a store job instead of memory.
 * The connection-level state machine and PDU routing stay in store-scp.ts.
 */
import type { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import type { Logger } from '@ldh/config';
import type { createStoreJobs } from './c-store.js';
import type { Connection } from './connection.js';
import type { ScpMetrics } from '@ldh/observability';
import type { AssociationSummary } from './scp-types.js';
import { ACCEPTED_TRANSFER_SYNTAXES, STORAGE_SOP_CLASSES, VERIFICATION_SOP_CLASS, VERIFICATION_TRANSFER_SYNTAXES } from './sop-classes.js';
import { AbortReasonCode } from './upper-layer.js';

type Association = InstanceType<typeof dimse.association.Association>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;
type CStoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;
type CEchoRequest = InstanceType<typeof dimse.requests.CEchoRequest>;
type CStoreResponse = InstanceType<typeof dimse.responses.CStoreResponse>;
type CEchoResponse = InstanceType<typeof dimse.responses.CEchoResponse>;
type Dataset = InstanceType<typeof dimse.Dataset>;
type StoreJobs = ReturnType<typeof createStoreJobs>;

const { PresentationContextResult, RejectResult, RejectSource, RejectReason } = dimse.constants;

const STATUS_SUCCESS = 0x0000;

/** What the handler needs from the SCP that owns the connection. */
export interface AssociationHandlerContext {
  log: Logger;
  metrics: ScpMetrics;
  aeTitle: string;
  allowList: Array<{ aeTitle: string; ip: string | undefined }> | undefined;
  /** True once the SCP is shutting down: new associations are rejected (transient). */
  closing(): boolean;
  maxAssociations: number;
  maxPduLength: number;
  associationTimeoutMs: number;
  idleTimeoutMs: number;
  endConnection(conn: Connection, ending: AssociationSummary['ending']): void;
  abortAndClose(conn: Connection, reason: number, ending?: AssociationSummary['ending']): void;
  protocolAbort(conn: Connection, reason: number, why: string, detail?: Record<string, unknown>): void;
  startStoreJob: StoreJobs['startStoreJob'];
  finishStoreJob: StoreJobs['finishStoreJob'];
}

export function createAssociationHandler(conn: Connection, ctx: AssociationHandlerContext): InstanceType<typeof dimse.Scp> {
  const { log, metrics, aeTitle, allowList, maxAssociations, maxPduLength, associationTimeoutMs, idleTimeoutMs, endConnection, abortAndClose, protocolAbort, startStoreJob, finishStoreJob } = ctx;
  class AssociationHandler extends dimse.Scp {
    override associationRequested(association: Association): void {
      clearTimeout(associationTimer);
      const calling = association.getCallingAeTitle().trim();
      const called = association.getCalledAeTitle().trim();
      conn.callingAeTitle = calling;
      conn.calledAeTitle = called;
      const reject = (result: number, source: number, reason: number, label: string, why: string): void => {
        metrics.associations.inc({ result: label });
        log.warn({ assoc: conn.id, callingAeTitle: calling, calledAeTitle: called, remoteAddress: conn.remoteAddress, why }, 'association rejected');
        conn.ulState = 'closing';
        conn.reader?.stop();
        this.sendAssociationReject(result, source, reason);
        setTimeout(() => endConnection(conn, 'closed'), 100).unref();
      };
      if (called !== aeTitle) {
        reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized, 'rejected-called-ae', 'called AE not recognized');
        return;
      }
      if (allowList && !allowList.some((p) => p.aeTitle === calling && (p.ip === undefined || p.ip === conn.remoteAddress))) {
        reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized, 'rejected-calling-ae', 'calling AE/IP not allowed');
        return;
      }
      const closing = ctx.closing();
        if (conn.overLimit || closing) {
        reject(
          RejectResult.Transient,
          RejectSource.ServiceProviderPresentation,
          RejectReason.LocalLimitExceeded,
          'rejected-limit',
          closing ? 'shutting down' : `more than ${maxAssociations} associations`,
        );
        return;
      }
      let accepted = 0;
      for (const { context } of association.getPresentationContexts()) {
        const abstract = context.getAbstractSyntaxUid();
        const isEcho = abstract === VERIFICATION_SOP_CLASS;
        if (!isEcho && !STORAGE_SOP_CLASSES.has(abstract)) {
          context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
          continue;
        }
        const allowed = isEcho ? VERIFICATION_TRANSFER_SYNTAXES : ACCEPTED_TRANSFER_SYNTAXES;
        // The sender's order is its preference; storing as received means honouring it.
        const ts = context.getTransferSyntaxUids().find((t) => allowed.has(t));
        if (ts) {
          context.setResult(PresentationContextResult.Accept, ts);
          conn.acceptedContexts.add(context.getPresentationContextId());
          accepted += 1;
        } else {
          context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
        }
      }
      conn.associated = true;
      conn.ulState = 'associated';
      association.setMaxPduLength(maxPduLength);
      metrics.associations.inc({ result: 'accepted' });
      log.info({ assoc: conn.id, callingAeTitle: calling, remoteAddress: conn.remoteAddress, contexts: accepted }, 'association accepted');
      this.sendAssociationAccept();
    }

    override associationReleaseRequested(): void {
      conn.ending = 'released';
      conn.ulState = 'closing';
      conn.reader?.stop();
      this.sendAssociationReleaseResponse();
      // Sta13: the peer closes; ARTIM bounds the wait.
      setTimeout(() => endConnection(conn, 'released'), associationTimeoutMs).unref();
    }

    override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponse) => void): void {
      const rsp = dimse.responses.CEchoResponse.fromRequest(request);
      rsp.setStatus(STATUS_SUCCESS);
      callback(rsp);
    }

    override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): Writable {
      const job = startStoreJob(conn, context, {
        sopClassUid: String(request.getAffectedSopClassUid() ?? ''),
        sopInstanceUid: String(request.getAffectedSopInstanceUid() ?? ''),
        messageId: request.getMessageId(),
      });
      conn.pending.set(request, job);
      return job.spool;
    }

    override createDatasetFromStoreWritableStream(
      _writable: Writable,
      _context: PresentationContext,
      callback: (dataset: Dataset) => void,
    ): void {
      // The bytes are in the store, not in memory; cStoreRequest finds them via the request.
      callback(new dimse.Dataset());
    }

    override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
      const job = conn.pending.get(request);
      conn.pending.delete(request);
      if (!job) {
        const rsp = dimse.responses.CStoreResponse.fromRequest(request);
        rsp.setStatus(0xc000);
        callback(rsp);
        return;
      }
      finishStoreJob(conn, job);
    }

    override abort(source: number, reason: number): void {
      log.info({ assoc: conn.id, callingAeTitle: conn.callingAeTitle, source, reason }, 'association aborted by peer');
      endConnection(conn, 'aborted');
    }
  }

  const associationTimer = setTimeout(() => {
    if (!conn.associated) {
      log.warn({ assoc: conn.id, remoteAddress: conn.remoteAddress }, 'no A-ASSOCIATE-RQ in time, closing');
      endConnection(conn, 'timeout');
    }
  }, associationTimeoutMs);
  associationTimer.unref();
  conn.socket.once('close', () => clearTimeout(associationTimer));

  // connectTimeout is dcmjs-dimse's socket inactivity timeout; we replace its handler below.
  const handler = new AssociationHandler(conn.socket, { connectTimeout: idleTimeoutMs, associationTimeout: 2 ** 30, pduTimeout: 2 ** 30 });
  conn.socket.removeAllListeners('timeout');
  conn.socket.setTimeout(idleTimeoutMs);
  conn.socket.on('timeout', () => {
    // We are the slow side, the sender is waiting for us: a response is pending, or we paused
    // the socket ourselves because the spool's temp file is behind (back-pressure).
    if (conn.inFlight > 0 || conn.socket.isPaused()) return;
    log.warn({ assoc: conn.id, callingAeTitle: conn.callingAeTitle, idleTimeoutMs }, 'association idle, aborting');
    abortAndClose(conn, AbortReasonCode.NotSpecified, 'timeout');
  });
  handler.on('networkError', (err: Error) => {
    // With the socket alive, dcmjs-dimse could not decode a PDU or command we handed it.
    if (!conn.socket.destroyed && conn.socket.writable && conn.ulState !== 'closing') {
      protocolAbort(conn, AbortReasonCode.InvalidPduParameter, 'PDU or command could not be decoded', { problem: err.message });
      return;
    }
    endConnection(conn, conn.ending === 'closed' ? 'aborted' : conn.ending);
  });
  return handler;
}
