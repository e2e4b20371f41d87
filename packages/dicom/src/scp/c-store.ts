import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import dimse from 'dcmjs-dimse';
import type { Logger } from '@ldh/config';
import { isValidUid } from '../uid.js';
import type { Connection, StoreJob } from './connection.js';
import { DatasetSpool, ReceiveBuffer } from './dataset-spool.js';
import { cStoreResponsePdu } from './dimse-pdus.js';
import { OutOfResourcesError, ScpError, SopMismatchError } from './errors.js';
import { identifyDataset, identifyStoredInstance, type InstanceIdentity } from './identify-instance.js';
import type { ScpMetrics } from '@ldh/observability';
import { buildPart10Header } from './part10-meta.js';
import type { ReceivedInstance, ScpPendingWrite, StoreScpOptions } from './scp-types.js';
import { STORAGE_SOP_CLASSES } from './sop-classes.js';

type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;

const { PresentationContextResult } = dimse.constants;
const STATUS_SUCCESS = 0x0000;
/** First size of an association's receive buffer; it grows to the largest dataset kept in memory. */
const INITIAL_RECEIVE_BUFFER = 1 << 20;

function statusHex(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** What the C-STORE pipeline needs from its SCP. */
export interface StoreJobContext {
  opts: Pick<StoreScpOptions, 'store' | 'sink' | 'minFreeBytes'>;
  log: Logger;
  metrics: ScpMetrics;
  keepInMemoryBytes: number;
  maxPduLength: number;
  /** True once the SCP is shutting down (new instances are refused with 0xA700). */
  closing(): boolean;
}

/** The C-STORE pipeline of one SCP: receiving state, admission, durability, the response. */
export interface StoreJobs {
  /** Creates the receiving state of one C-STORE (admission checks start at once, asynchronously). */
  startStoreJob(conn: Connection, context: PresentationContext | undefined, cmd: { sopClassUid: string; sopInstanceUid: string; messageId: number }): StoreJob;
  /** Completes a received C-STORE and writes its response; tracked for graceful close. */
  finishStoreJob(conn: Connection, job: StoreJob): void;
  /** C-STOREs being completed (graceful close waits for them). */
  readonly inFlight: Set<Promise<unknown>>;
}

/**
 * The C-STORE half of the SCP. Each instance is stored as received (our Part-10 meta header +
 * the sender's dataset bytes, untouched): received in memory (or streamed to a temp file when
 * large), checked for completeness and parsed, made durable, renamed to its content address,
 * recorded by the sink — and only then acknowledged (see the README for the crash argument).
 */
export function createStoreJobs(ctx: StoreJobContext): StoreJobs {
  const { opts, log, metrics, keepInMemoryBytes, maxPduLength } = ctx;
  const inFlightStores = new Set<Promise<unknown>>();
  let freeCache: { at: number; free: number } | undefined;

  dimse.Implementation.setMaxPduLength(maxPduLength);

  async function diskLow(): Promise<boolean> {
    if (!(await opts.store.hasSpace())) return true;
    if (opts.minFreeBytes === undefined) return false;
    const now = Date.now();
    if (!freeCache || now - freeCache.at > 500) freeCache = { at: now, free: await opts.store.freeBytes() };
    return freeCache.free < opts.minFreeBytes;
  }

  /** Decides whether we take the instance; a refusal is answered 0xA700 after the dataset is read. */
  async function admit(job: StoreJob): Promise<void> {
    if (job.refusal) return;
    if (ctx.closing()) job.refusal = new OutOfResourcesError('SCP is shutting down');
    else if (await diskLow()) job.refusal = new OutOfResourcesError('insufficient disk space');
    else if (opts.sink.isOverloaded && (await opts.sink.isOverloaded())) job.refusal = new OutOfResourcesError('ingest is overloaded, retry later');
  }

  /** Opens the temp file for a job once admitted; undefined when refused. */
  async function openForJob(job: StoreJob): Promise<ScpPendingWrite | undefined> {
    await job.admitted;
    if (job.refusal) return undefined;
    const pending = await opts.store.beginWrite();
    pending.stream.on('error', (err) => {
      job.spool.failure ??= err;
    });
    return pending;
  }

  /** The C-STORE-RSP to send: status and an optional comment (≤ 64 chars, no PHI). */
  interface StoreAnswer {
    status: number;
    comment?: string;
  }

  /**
   * Everything after the last dataset byte: validation, durability (fsync + rename) and the sink
   * commit, the status. Never throws; the caller writes the response.
   *
   * Ordering (invariant 1): the sha256 and the identity are known once the dataset is validated,
   * so the sink commit starts together with the durable write instead of after it; Success waits
   * for both AND for the rename, which the store does only after the bytes are durable. So a crash
   * never leaves a torn file under a content address; it can leave a committed row whose file
   * never arrived, but that row was never acknowledged: startup reconciliation marks it
   * (`fileMissingAt`) and the sender's resend of the same bytes stores the file and clears the
   * mark. A write that fails while the process lives is marked the same way at once
   * ({@link IngestSink.fileNotStored}).
   */
  async function completeStore(conn: Connection, job: StoreJob): Promise<StoreAnswer> {
    const t0 = performance.now();
    const sopInstanceUid = job.sopInstanceUid;
    let pending: ScpPendingWrite | undefined;
    let outcome = 'failed';
    try {
      await finished(job.spool);
      await job.admitted;
      await job.spool.spillSettled();
      const tReceived = performance.now();
      pending = job.spool.target;
      if (job.refusal) throw job.refusal;
      if (job.spool.failure) throw new OutOfResourcesError(`write failed: ${job.spool.failure.message}`, { cause: job.spool.failure });
      const timing = { identified: 0, written: 0, placed: 0, committed: 0 };
      let identity: InstanceIdentity;
      let content: { sha256: string; sizeBytes: number };
      /** Makes the bytes durable, then renames them to their content address. */
      let store: () => Promise<void>;
      if (!job.spool.spilled) {
        // Kept in memory: validated before anything touches the disk, so an invalid dataset never does.
        const dataset = job.spool.memory?.view() ?? Buffer.alloc(0);
        identity = identifyDataset(dataset, job.transferSyntaxUid ?? '');
        checkAgainstCommand(identity, job);
        content = { sha256: job.spool.hash.digest('hex'), sizeBytes: job.header.length + dataset.length };
        const sha256 = content.sha256;
        // One writev of meta header + dataset (no concatenated copy) into a staging file whose
        // name is already durable (bytes durable when it resolves), then the rename (`placed`).
        store = async () => {
          const staged = await opts.store.writeObject([job.header, dataset], { sha256 });
          timing.written = performance.now();
          await staged.placed;
        };
      } else {
        // Spilled to a temp file: fdatasync'ed by seal() before it is validated from disk.
        if (!pending) throw new OutOfResourcesError('instance refused');
        const sealed = pending;
        content = await sealed.seal();
        identity = await identifyStoredInstance(sealed.tempPath);
        checkAgainstCommand(identity, job);
        store = async () => {
          timing.written = performance.now();
          await sealed.commit();
        };
      }
      timing.identified = performance.now();
      const instance: ReceivedInstance = {
        ...identity,
        sha256: content.sha256,
        sizeBytes: content.sizeBytes,
        storageKey: opts.store.storageKeyOf(content.sha256),
        callingAeTitle: conn.callingAeTitle,
        calledAeTitle: conn.calledAeTitle,
        remoteAddress: conn.remoteAddress,
        receivedAt: new Date(),
      };
      const [stored, committed] = await Promise.allSettled([
        store().then(() => void (timing.placed = performance.now())),
        opts.sink.commit(instance).then((r) => ((timing.committed = performance.now()), r)),
      ]);
      if (stored.status === 'rejected') {
        const reason = stored.reason as Error;
        if (committed.status === 'fulfilled') await markNotStored(conn, instance);
        throw new OutOfResourcesError(`storing failed: ${reason.message}`, { cause: reason });
      }
      if (committed.status === 'rejected') {
        // The file is durable but unrecorded: the sender retries, the same bytes land on the same
        // key (and reconciliation removes it if no retry comes).
        const reason = committed.reason as Error;
        throw new OutOfResourcesError(`ingest sink failed: ${reason.message}`, { cause: reason });
      }
      outcome = committed.value.outcome;
      conn.stored += 1;
      conn.bytes += content.sizeBytes;
      metrics.bytes.inc(content.sizeBytes);
      metrics.instances.inc({ outcome });
      if (log.isLevelEnabled('debug')) {
        const ms = (from: number, to: number): number => +(to - from).toFixed(2);
        const { identified } = timing;
        log.debug(
          {
            assoc: conn.id,
            sopInstanceUid,
            sha256: content.sha256,
            sizeBytes: content.sizeBytes,
            outcome,
            fastPath: job.fastPath === true,
            // sender: our previous response to this command; receive: command to last dataset
            // byte; parse: validation; then, in parallel from the end of parse: write (bytes
            // durable), place (renamed), commit (row committed); total: last byte to answer.
            ms: {
              ...(job.senderMs !== undefined ? { sender: +job.senderMs.toFixed(2) } : {}),
              receive: ms(job.firstByteAt, t0),
              wait: ms(t0, tReceived),
              parse: ms(tReceived, identified),
              write: ms(identified, timing.written),
              place: ms(identified, timing.placed),
              commit: ms(identified, timing.committed),
              total: ms(t0, performance.now()),
            },
          },
          'instance stored',
        );
      }
      return { status: STATUS_SUCCESS };
    } catch (err) {
      if (pending) await pending.abort().catch(() => undefined);
      const status = err instanceof ScpError ? err.status : 0xa700;
      conn.failed += 1;
      metrics.instances.inc({ outcome: 'failed' });
      metrics.failures.inc({ status: statusHex(status) });
      log.warn(
        { assoc: conn.id, callingAeTitle: conn.callingAeTitle, sopInstanceUid, status: statusHex(status), reason: (err as Error).message },
        'C-STORE failed',
      );
      return { status, comment: (err as Error).message };
    } finally {
      metrics.storeDuration.observe({ outcome }, (performance.now() - t0) / 1000);
    }
  }

  /**
   * The row committed but the file did not make it: unless an identical object is already at
   * that key (a duplicate), tell the sink, so the row is marked missing now rather than at the
   * next startup. Best effort: a failure here is logged; startup reconciliation still catches it.
   */
  async function markNotStored(conn: Connection, instance: ReceivedInstance): Promise<void> {
    try {
      if (await opts.store.exists(instance.storageKey)) return;
      await opts.sink.fileNotStored?.(instance);
    } catch (err) {
      log.error({ assoc: conn.id, sopInstanceUid: instance.sopInstanceUid, sha256: instance.sha256, reason: (err as Error).message }, 'cannot mark an unstored file missing');
    }
  }

  function checkAgainstCommand(identity: InstanceIdentity, job: StoreJob): void {
    if (identity.sopInstanceUid !== job.sopInstanceUid) throw new SopMismatchError('dataset SOPInstanceUID differs from the C-STORE request');
    if (identity.sopClassUid !== job.sopClassUid) throw new SopMismatchError('dataset SOPClassUID differs from the C-STORE request');
  }

  /** Creates the receiving state of one C-STORE (admission checks start at once, asynchronously). */
  function startStoreJob(
    conn: Connection,
    context: PresentationContext | undefined,
    cmd: { sopClassUid: string; sopInstanceUid: string; messageId: number },
  ): StoreJob {
    const sopClassUid = cmd.sopClassUid.replace(/\0/g, '').trim();
    const sopInstanceUid = cmd.sopInstanceUid.replace(/\0/g, '').trim();
    const accepted = context?.getResult() === PresentationContextResult.Accept;
    const transferSyntaxUid = accepted ? context?.getAcceptedTransferSyntaxUid() : undefined;
    const job = {
      sopClassUid,
      sopInstanceUid,
      presentationContextId: context?.getPresentationContextId() ?? 0,
      messageId: cmd.messageId,
      transferSyntaxUid,
      firstByteAt: performance.now(),
      ...(conn.lastResponseAt !== undefined ? { senderMs: performance.now() - conn.lastResponseAt } : {}),
    } as StoreJob;
    if (!context || !transferSyntaxUid) {
      job.refusal = new ScpError('presentation context not accepted', 0x0122);
    } else if (context.getAbstractSyntaxUid() !== sopClassUid || !STORAGE_SOP_CLASSES.has(sopClassUid)) {
      job.refusal = new ScpError('AffectedSOPClassUID does not match the presentation context', 0x0122);
    } else if (!isValidUid(sopInstanceUid)) {
      job.refusal = new ScpError('AffectedSOPInstanceUID is not a valid UID', 0xc000);
    }
    job.header = transferSyntaxUid
      ? buildPart10Header({
          mediaStorageSopClassUid: sopClassUid,
          mediaStorageSopInstanceUid: sopInstanceUid,
          transferSyntaxUid,
          sourceApplicationEntityTitle: conn.callingAeTitle,
        })
      : Buffer.alloc(0);
    // File creation for this instance's durable write overlaps its arrival (at 1 association
    // the write is on the ACK path; a burst of creates there stalled it).
    if (!job.refusal) opts.store.prepareWrite?.();
    job.admitted = admit(job).catch((err: unknown) => {
      job.refusal ??= new OutOfResourcesError(`admission check failed: ${(err as Error).message}`);
    });
    const memory = conn.spareBuffer ?? new ReceiveBuffer(Math.min(INITIAL_RECEIVE_BUFFER, keepInMemoryBytes));
    conn.spareBuffer = undefined;
    memory.reset();
    job.spool = new DatasetSpool(() => openForJob(job), job.header, keepInMemoryBytes, memory, 4 * maxPduLength);
    // After the connection died the spool is destroyed; a late write must not crash the process.
    job.spool.on('error', () => undefined);
    // Real back-pressure once spilled to disk: stop reading the socket while the disk is behind.
    const spoolWrite = job.spool.write.bind(job.spool) as (chunk: Buffer) => boolean;
    job.spool.write = ((chunk: Buffer) => {
      const ok = spoolWrite(chunk);
      if (!ok && !conn.socket.isPaused()) {
        conn.socket.pause();
        job.spool.once('drain', () => conn.socket.resume());
      }
      return ok;
    }) as Writable['write'];
    return job;
  }

  /** Completes a received C-STORE and writes its response; tracked for graceful close. */
  function finishStoreJob(conn: Connection, job: StoreJob): void {
    conn.inFlight += 1;
    const work = completeStore(conn, job)
      .then((answer) => {
        // Written directly (one small PDU) rather than through dcmjs-dimse's dataset encoder: hot path.
        if (!conn.socket.destroyed) conn.socket.write(cStoreResponsePdu(job, answer));
        conn.lastResponseAt = performance.now();
      })
      .catch((err: unknown) => log.error({ assoc: conn.id, err }, 'C-STORE response failed'))
      .finally(() => {
        // The response is out and the bytes are on disk: the buffer can take the next dataset.
        const memory = job.spool.memory;
        if (memory && (!conn.spareBuffer || conn.spareBuffer.capacity < memory.capacity)) conn.spareBuffer = memory;
        conn.inFlight -= 1;
        inFlightStores.delete(work);
        if (conn.inFlight === 0) conn.markIdle?.();
      });
    inFlightStores.add(work);
  }


  return { startStoreJob, finishStoreJob, inFlight: inFlightStores };
}
