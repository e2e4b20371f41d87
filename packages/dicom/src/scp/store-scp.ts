import net from 'node:net';
import tls from 'node:tls';
import dimse from 'dcmjs-dimse';
import { quietDimseLogs } from '../dimse.js';
import { createStoreJobs } from './c-store.js';
import type { Connection, StoreJob } from './connection.js';
import { createAssociationHandler } from './association-handler.js';
import { abortPdu, associateRjPdu, readCommandSet, splitPdvs } from './dimse-pdus.js';
import { createScpMetrics } from '@ldh/observability';
import { PduReader, type PduProblem, type PduReaderHandlers } from './pdu-reader.js';
import type { AssociationSummary, StoreScp, StoreScpOptions } from './scp-types.js';
import { ABORT_SOURCE_PROVIDER, AbortReasonCode, abortReasonFor, PduType, pduVerdict } from './upper-layer.js';

export type {
  AllowedPeer,
  AssociationSummary,
  IngestSink,
  ReceivedInstance,
  ScpInstanceStore,
  ScpPendingWrite,
  StoreScp,
  StoreScpOptions,
} from './scp-types.js';
export { ReceiveBuffer } from './dataset-spool.js';

type Association = InstanceType<typeof dimse.association.Association>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;

const { RejectResult, RejectSource, RejectReason } = dimse.constants;

/** Default {@link StoreScpOptions.maxPduLength}: 128 KiB, the upper end of what dcmtk and Orthanc accept. */
export const DEFAULT_MAX_PDU_LENGTH = 128 * 1024;
/**
 * Largest PDU other than P-DATA we read (64 KiB): the largest A-ASSOCIATE-RQ we accept (128
 * presentation contexts with several transfer syntaxes each fit); every other such PDU is tiny.
 * This is all a connection can make us buffer before it is associated.
 */
export const MAX_NON_DATA_PDU = 64 * 1024;
/** Largest command set we let dcmjs-dimse assemble from fragments (a real one is a few hundred bytes). */
const MAX_COMMAND_BYTES = 64 * 1024;

let associationDumpsSkipped = false;
/**
 * dcmjs-dimse interpolates `association.toString()` into info-level log lines on every
 * A-ASSOCIATE-RQ and -AC, whether or not info is enabled: with storescu's ~100 proposed contexts
 * that is ~10 ms of main-thread time each, twice per association. Below info, format nothing.
 */
function skipUnloggedAssociationDumps(): void {
  if (associationDumpsSkipped) return;
  associationDumpsSkipped = true;
  const proto = dimse.association.Association.prototype;
  const format = proto.toString;
  proto.toString = function (this: Association): string {
    return dimse.log.getLevel() <= dimse.log.levels.INFO ? format.call(this) : '(association: not formatted, dcmjs-dimse log level above info)';
  };
}

function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/**
 * The C-ECHO/C-STORE SCP that receives studies from a PACS. Each instance is stored as received
 * (our Part-10 meta header + the sender's dataset bytes, untouched): received in memory (or
 * streamed to a temp file when large), checked for completeness and parsed, made durable,
 * renamed to its content address, recorded by the sink — and only then acknowledged (see the
 * README for the crash argument). Bad input gets a failure status or an abort; the listener keeps serving.
 */
export function createStoreScp(opts: StoreScpOptions): StoreScp {
  // dcmjs-dimse logs every PDU at trace level by default; we log what matters ourselves, and
  // what it still logs (warn and above) goes through our logger as JSON.
  quietDimseLogs(opts.logger);
  skipUnloggedAssociationDumps();
  const log = opts.logger.child({ component: 'store-scp', aeTitle: opts.aeTitle });
  const metrics = opts.metrics ?? createScpMetrics();
  const maxAssociations = opts.maxAssociations ?? 32;
  const maxPduLength = opts.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
  const associationTimeoutMs = opts.associationTimeoutMs ?? 30_000;
  const keepInMemoryBytes = opts.keepInMemoryBytes ?? 8 * 1024 * 1024;
  const allowList = opts.allowList?.map((p) => ({ aeTitle: p.aeTitle.trim(), ip: p.ip ? normalizeIp(p.ip) : undefined }));
  const connections = new Set<Connection>();
  let server: net.Server | tls.Server | undefined;
  let closing = false;
  let connectionSeq = 0;
  const jobs = createStoreJobs({ opts, log, metrics, keepInMemoryBytes, maxPduLength, closing: () => closing });
  const { startStoreJob, finishStoreJob, inFlight: inFlightStores } = jobs;

  dimse.Implementation.setMaxPduLength(maxPduLength);

  /** Closes the connection now (nothing more to say to the peer). */
  function endConnection(conn: Connection, ending: AssociationSummary['ending']): void {
    conn.ending = conn.ending === 'closed' ? ending : conn.ending;
    conn.ulState = 'closing';
    conn.reader?.stop();
    const socket = conn.socket;
    if (!socket.destroyed) socket.destroy();
  }

  /**
   * Sends our last PDU (A-ABORT or A-ASSOCIATE-RJ) and closes our side (Sta13): nothing more is
   * read; the socket is destroyed when the peer closes or, at the latest, when ARTIM expires.
   */
  function answerAndClose(conn: Connection, answer: Buffer, ending: AssociationSummary['ending']): void {
    conn.ending = conn.ending === 'closed' ? ending : conn.ending;
    conn.ulState = 'closing';
    conn.reader?.stop();
    const socket = conn.socket;
    if (socket.destroyed) return;
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(answer);
    const artim = setTimeout(() => socket.destroy(), associationTimeoutMs);
    artim.unref();
    socket.once('close', () => clearTimeout(artim));
  }

  /** A-ABORT (source: service provider) with `reason`, then close (PS3.8 AA-1/AA-8). */
  function abortAndClose(conn: Connection, reason: number, ending: AssociationSummary['ending'] = 'aborted'): void {
    if (conn.ulState === 'closing') {
      endConnection(conn, ending);
      return;
    }
    answerAndClose(conn, abortPdu(ABORT_SOURCE_PROVIDER, reason), ending);
  }

  /** Aborts the association for a protocol error `why` (a fixed phrase; no PHI). */
  function protocolAbort(conn: Connection, reason: number, why: string, detail: Record<string, unknown> = {}): void {
    log.warn({ assoc: conn.id, callingAeTitle: conn.callingAeTitle, remoteAddress: conn.remoteAddress, reason, ...detail }, `${why}, aborting`);
    metrics.associations.inc({ result: 'protocol-abort' });
    abortAndClose(conn, reason);
  }

  /** Aborts the association because a PDV does not continue the C-STORE dataset being received. */
  function abortUnexpectedPdv(conn: Connection): void {
    protocolAbort(conn, AbortReasonCode.UnexpectedPdu, 'unexpected PDV during a C-STORE dataset');
  }

  /**
   * Checks each PDU's header against the state machine before its body is read: out-of-state
   * PDUs are aborted, and an A-ASSOCIATE-RQ over the association limit is rejected without
   * reading its body.
   */
  function admitPdu(conn: Connection, pduType: number, length: number): boolean {
    if (pduType === PduType.AssociateRq && conn.ulState === 'awaiting-associate-rq' && (conn.overLimit || closing)) {
      metrics.associations.inc({ result: 'rejected-limit' });
      log.warn({ assoc: conn.id, remoteAddress: conn.remoteAddress, why: closing ? 'shutting down' : `more than ${maxAssociations} associations` }, 'association rejected');
      answerAndClose(conn, associateRjPdu(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.LocalLimitExceeded), 'closed');
      return false;
    }
    const verdict = pduVerdict(conn.ulState, pduType);
    if (verdict.action === 'accept') return true;
    if (verdict.action === 'close') endConnection(conn, 'aborted');
    else protocolAbort(conn, verdict.reason, 'PDU not expected in this state', { pduType, length, state: conn.ulState });
    return false;
  }

  /** The last dataset PDV of the fast-path C-STORE has arrived: validate, store and answer it. */
  function endFastJob(conn: Connection, job: StoreJob): void {
    job.spool.end();
    conn.pending.delete(job);
    conn.fastJob = undefined;
    finishStoreJob(conn, job);
  }

  /**
   * Checks a whole P-DATA-TF PDU against the association and handles it if it belongs to a
   * C-STORE (its command, possibly with the first dataset fragments). Returns false to leave the
   * PDU to dcmjs-dimse. Malformed PDVs, a PDV on a presentation context we did not accept, a
   * dataset PDV when a command is due and an unparseable command set are aborted here (true).
   * The dataset PDUs that follow a C-STORE command are streamed by the PDU reader into
   * {@link streamedPdvHandlers}.
   */
  function handlePData(conn: Connection, association: Association, pdu: Buffer): boolean {
    const pdvs = splitPdvs(pdu);
    const first = pdvs?.[0];
    if (!pdvs || !first) {
      protocolAbort(conn, AbortReasonCode.InvalidPduParameter, 'malformed P-DATA-TF');
      return true;
    }
    const stray = pdvs.find((p) => !conn.acceptedContexts.has(p.pcId));
    if (stray) {
      protocolAbort(conn, AbortReasonCode.InvalidPduParameter, 'PDV on a presentation context not accepted', { pcId: stray.pcId });
      return true;
    }
    const handler = conn.handler as unknown as { dimse?: unknown; dimseStream?: unknown };
    if (!conn.fastJob) {
      // A dataset being received by dcmjs-dimse (not our fast path): its PDVs go there.
      if (handler.dimse !== undefined) return false;
      // A command is due.
      if (conn.commandBytes === 0 && !first.command) {
        protocolAbort(conn, AbortReasonCode.UnexpectedPdu, 'dataset PDV where a command set is due');
        return true;
      }
      if (conn.commandBytes > 0 || !first.last) {
        // A command set in fragments: dcmjs-dimse assembles it, within a bound.
        for (const p of pdvs) if (p.command) conn.commandBytes = p.last ? 0 : conn.commandBytes + p.value.length;
        if (conn.commandBytes > MAX_COMMAND_BYTES) {
          protocolAbort(conn, AbortReasonCode.InvalidPduParameter, 'command set too long', { bytes: conn.commandBytes });
          return true;
        }
        return false;
      }
      const cmd = readCommandSet(first.value);
      if (!cmd) {
        protocolAbort(conn, AbortReasonCode.InvalidPduParameter, 'command set cannot be parsed');
        return true;
      }
      // dcmjs-dimse leaves the stream of a dataset-less command (C-ECHO) behind; this PDV is a
      // complete command set (group length checked), so nothing partial is being dropped.
      handler.dimseStream = undefined;
      // Only a complete C-STORE-RQ command with a dataset starts the fast path.
      if (cmd.commandField !== 0x0001 || cmd.dataSetType === 0x0101 || pdvs.slice(1).some((p) => p.command)) return false;
      let context: PresentationContext | undefined;
      try {
        context = association.getPresentationContext(first.pcId);
      } catch {
        return false;
      }
      const job = startStoreJob(conn, context, cmd);
      job.fastPath = true;
      conn.fastJob = job;
      conn.pending.set(job, job);
      pdvs.shift();
    }
    for (const pdv of pdvs) {
      const job = conn.fastJob;
      if (!job || pdv.command || pdv.pcId !== job.presentationContextId) {
        abortUnexpectedPdv(conn);
        return true;
      }
      job.spool.append(pdv.value);
      if (pdv.last) endFastJob(conn, job);
    }
    return true;
  }

  /** The PDU reader's handlers for dataset PDVs streamed straight from the socket's chunks. */
  function streamedPdvHandlers(conn: Connection): Pick<PduReaderHandlers, 'onPdvStart' | 'onPdvData' | 'onPdvEnd'> {
    return {
      onPdvStart(pdv) {
        const job = conn.fastJob;
        if (!job || pdv.command || pdv.pcId !== job.presentationContextId) {
          abortUnexpectedPdv(conn);
          return false;
        }
        conn.fastPdvLast = pdv.last;
        return true;
      },
      onPdvData(chunk) {
        conn.fastJob?.spool.append(chunk);
      },
      onPdvEnd() {
        const job = conn.fastJob;
        if (job && conn.fastPdvLast) endFastJob(conn, job);
      },
    };
  }

  /** Where a whole PDU goes: our C-STORE fast path when it applies, else dcmjs-dimse. */
  function dispatchPdu(conn: Connection, pdu: Buffer): void {
    const handler = conn.handler;
    if (!handler) return;
    const association = (handler as unknown as { association?: Association }).association;
    if (pdu[0] === PduType.PData && association && handlePData(conn, association, pdu)) return;
    const processPdu = (dimse.Scp.prototype as unknown as { _processPdu(this: unknown, d: Buffer): Promise<void> })._processPdu;
    processPdu.call(handler, pdu).catch((err: unknown) => {
      protocolAbort(conn, AbortReasonCode.InvalidPduParameter, 'PDU processing failed', { problem: (err as Error).message });
    });
  }

  /**
   * Replaces dcmjs-dimse's socket reader with ours ({@link PduReader}): PDU headers are checked
   * before anything is buffered (unknown type or oversize → A-ABORT), and C-STORE datasets are
   * streamed without assembling their PDUs.
   */
  function attachPduReader(conn: Connection): void {
    conn.socket.removeAllListeners('data');
    const reader = new PduReader(
      {
        streamPData: () => conn.fastJob !== undefined,
        onPdu: (pdu) => dispatchPdu(conn, pdu),
        ...streamedPdvHandlers(conn),
        admitPdu: (pduType, length) => admitPdu(conn, pduType, length),
        onInvalid: (problem) => rejectPdu(conn, problem),
      },
      { maxPDataLength: maxPduLength, maxOtherLength: MAX_NON_DATA_PDU },
    );
    conn.reader = reader;
    conn.socket.on('data', (chunk: Buffer) => reader.push(chunk));
  }

  function rejectPdu(conn: Connection, problem: PduProblem): void {
    const { kind, pduType, length, limit } = problem;
    const why = kind === 'pdu-too-long' ? 'PDU longer than allowed' : kind === 'unrecognized-pdu' ? 'unrecognized PDU' : 'malformed PDV';
    protocolAbort(conn, abortReasonFor(problem), why, { pduType, length, limit });
  }

  function createHandler(conn: Connection): InstanceType<typeof dimse.Scp> {
    return createAssociationHandler(conn, {
      log,
      metrics,
      aeTitle: opts.aeTitle,
      allowList,
      closing: () => closing,
      maxAssociations,
      maxPduLength,
      associationTimeoutMs,
      idleTimeoutMs,
      endConnection,
      abortAndClose,
      protocolAbort,
      startStoreJob,
      finishStoreJob,
    });
  }

  function onConnection(socket: net.Socket): void {
    socket.setNoDelay(true);
    if (closing) {
      socket.destroy();
      return;
    }
    connectionSeq += 1;
    const conn: Connection = {
      id: `${process.pid}-${connectionSeq}`,
      socket,
      remoteAddress: normalizeIp(socket.remoteAddress),
      startedAt: new Date(),
      associated: false,
      callingAeTitle: '',
      calledAeTitle: '',
      overLimit: connections.size >= maxAssociations,
      ulState: 'awaiting-associate-rq',
      acceptedContexts: new Set(),
      commandBytes: 0,
      inFlight: 0,
      idle: Promise.resolve(),
      pending: new Map(),
      fastPdvLast: false,
      stored: 0,
      failed: 0,
      bytes: 0,
      ending: 'closed',
    };
    connections.add(conn);
    metrics.activeAssociations.set(connections.size);
    socket.on('error', () => undefined); // reported through dcmjs-dimse's networkError
    try {
      conn.handler = createHandler(conn);
      attachPduReader(conn);
    } catch (err) {
      log.error({ assoc: conn.id, err }, 'cannot set up association');
      socket.destroy();
    }
    socket.once('close', () => {
      connections.delete(conn);
      metrics.activeAssociations.set(connections.size);
      // Datasets that never completed: throw their temp files away.
      for (const job of conn.pending.values()) {
        job.spool.destroy();
        void job.spool
          .spillSettled()
          .then(() => job.spool.target?.abort())
          .catch(() => undefined);
      }
      conn.pending.clear();
      if (!conn.associated) return;
      if (conn.ending === 'aborted') metrics.associations.inc({ result: 'aborted' });
      const summarize = async (): Promise<void> => {
        while (conn.inFlight > 0) {
          conn.idle = new Promise<void>((resolve) => (conn.markIdle = resolve));
          await conn.idle;
        }
        const summary: AssociationSummary = {
          associationId: conn.id,
          callingAeTitle: conn.callingAeTitle,
          calledAeTitle: conn.calledAeTitle,
          remoteAddress: conn.remoteAddress,
          startedAt: conn.startedAt,
          endedAt: new Date(),
          instancesStored: conn.stored,
          instancesFailed: conn.failed,
          bytesStored: conn.bytes,
          ending: conn.ending,
        };
        log.info({ ...summary, assoc: conn.id }, 'association closed');
        await opts.sink.associationClosed?.(summary);
      };
      summarize().catch((err: unknown) => log.error({ assoc: conn.id, err }, 'associationClosed hook failed'));
    });
  }

  return {
    metrics,
    maxPduLength,
    get listening() {
      return !closing && (server?.listening ?? false);
    },
    listen(): Promise<{ port: number }> {
      return new Promise((resolve, reject) => {
        if (opts.tls) {
          const t = opts.tls;
          const srv = tls.createServer(
            {
              key: t.key,
              cert: t.cert,
              ...(t.ca ? { ca: t.ca } : {}),
              requestCert: t.requestClientCert ?? false,
              rejectUnauthorized: t.requestClientCert ?? false,
            },
            onConnection,
          );
          srv.on('tlsClientError', (err, socket) => {
            log.warn({ remoteAddress: normalizeIp(socket.remoteAddress), reason: err.message }, 'TLS handshake failed');
            socket.destroy();
          });
          server = srv;
        } else {
          server = net.createServer(onConnection);
        }
        const srv = server;
        srv.once('error', reject);
        srv.listen(opts.port, opts.host, () => {
          srv.off('error', reject);
          srv.on('error', (err) => log.error({ err }, 'listener error'));
          const addr = srv.address();
          const port = typeof addr === 'object' && addr ? addr.port : opts.port;
          log.info({ host: opts.host, port, tls: Boolean(opts.tls) }, 'storage SCP listening');
          resolve({ port });
        });
      });
    },
    async close(): Promise<void> {
      closing = true;
      const srv = server;
      const stopped = srv
        ? new Promise<void>((resolve) => srv.close(() => resolve()))
        : Promise.resolve();
      while (inFlightStores.size > 0) await Promise.allSettled([...inFlightStores]);
      for (const conn of connections) {
        const socket = conn.socket;
        if (conn.ulState === 'associated' && !socket.destroyed && socket.writable) socket.write(abortPdu(ABORT_SOURCE_PROVIDER, AbortReasonCode.NotSpecified));
        endConnection(conn, 'aborted');
      }
      await stopped;
      log.info('storage SCP closed');
    },
  };
}
