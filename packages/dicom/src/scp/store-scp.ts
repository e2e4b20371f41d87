import net from 'node:net';
import tls from 'node:tls';
import { createHash, type Hash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import dimse from 'dcmjs-dimse';
import type { Logger } from '@ldh/config';
import { quietDimseLogs } from '../dimse.js';
import { isValidUid } from '../uid.js';
import { OutOfResourcesError, ScpError, SopMismatchError } from './errors.js';
import { identifyDataset, identifyStoredInstance, type InstanceIdentity } from './identify-instance.js';
import { createScpMetrics, type ScpMetrics } from './metrics.js';
import { buildPart10Header } from './part10-meta.js';
import { PduReader, type PduProblem, type PduReaderHandlers } from './pdu-reader.js';
import {
  ACCEPTED_TRANSFER_SYNTAXES,
  STORAGE_SOP_CLASSES,
  VERIFICATION_SOP_CLASS,
  VERIFICATION_TRANSFER_SYNTAXES,
} from './sop-classes.js';

type Association = InstanceType<typeof dimse.association.Association>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;
type CStoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;
type CEchoRequest = InstanceType<typeof dimse.requests.CEchoRequest>;
type CStoreResponse = InstanceType<typeof dimse.responses.CStoreResponse>;
type CEchoResponse = InstanceType<typeof dimse.responses.CEchoResponse>;
type Dataset = InstanceType<typeof dimse.Dataset>;

const { PresentationContextResult, RejectResult, RejectSource, RejectReason, AbortSource, AbortReason } = dimse.constants;

/**
 * The part of `@ldh/storage`'s InstanceStore the SCP needs, declared structurally so that
 * `@ldh/dicom` does not depend on the storage package (any store with these methods works).
 */
export interface ScpInstanceStore {
  beginWrite(): Promise<ScpPendingWrite>;
  /**
   * Bytes durable (under a durable name) when it resolves; at the content address when `placed`
   * resolves. The rename's own durability may follow later: the store recovers it after a crash.
   */
  writeObject(
    data: Buffer | readonly Buffer[],
    opts?: { sha256?: string },
  ): Promise<{ sha256: string; sizeBytes: number; storageKey: string; placed?: Promise<void> }>;
  /**
   * Optional: prepares, in the background, the file a `writeObject` to come will use. Called when
   * a C-STORE command arrives, so that work overlaps the dataset's arrival.
   */
  prepareWrite?(): void;
  /** The key an object with this sha256 is stored under (known before it is written). */
  storageKeyOf(sha256: string): string;
  /** True when an object is present at `storageKey`. */
  exists(storageKey: string): Promise<boolean>;
  hasSpace(): Promise<boolean>;
  freeBytes(): Promise<number>;
}

/** A temp file being written: see `@ldh/storage` PendingWrite. */
export interface ScpPendingWrite {
  readonly tempPath: string;
  readonly stream: Writable;
  seal(): Promise<{ sha256: string; sizeBytes: number }>;
  commit(): Promise<{ sha256: string; sizeBytes: number; storageKey: string }>;
  abort(): Promise<void>;
}

/** One instance that is on disk (fsynced, renamed) and about to be acknowledged. No PHI. */
export interface ReceivedInstance extends InstanceIdentity {
  sha256: string;
  sizeBytes: number;
  storageKey: string;
  callingAeTitle: string;
  calledAeTitle: string;
  remoteAddress: string;
  receivedAt: Date;
}

/** How an association ended, for the sink's bookkeeping (e.g. "study may be complete"). */
export interface AssociationSummary {
  associationId: string;
  callingAeTitle: string;
  calledAeTitle: string;
  remoteAddress: string;
  startedAt: Date;
  endedAt: Date;
  instancesStored: number;
  instancesFailed: number;
  bytesStored: number;
  /** released: normal A-RELEASE; aborted: A-ABORT either way; closed: connection dropped; timeout: we closed it idle. */
  ending: 'released' | 'aborted' | 'closed' | 'timeout';
}

/**
 * Where a stored instance is recorded. The SCP answers Success only after `commit` resolves
 * and the file is durable at its content address, so the sink defines what "durably received"
 * means (e.g. an Instance row committed in Postgres). `commit` runs alongside the file write, so
 * a row may briefly exist before its file — never once the instance is acknowledged (see the README).
 */
export interface IngestSink {
  commit(instance: ReceivedInstance): Promise<{ outcome: 'stored' | 'duplicate' | 'new-version' }>;
  /**
   * `commit` succeeded but the file could not be stored (write or rename failed; the sender got
   * a failure status and will resend): mark the row's file missing until a resend restores it.
   */
  fileNotStored?(instance: ReceivedInstance): Promise<void>;
  associationClosed?(summary: AssociationSummary): Promise<void>;
  /** True when downstream cannot keep up: the SCP answers 0xA700 so senders back off and retry. */
  isOverloaded?(): Promise<boolean>;
}

/** Calling AE (and optionally source IP) allowed to associate. */
export interface AllowedPeer {
  aeTitle: string;
  ip?: string;
}

/** Options of {@link createStoreScp}. */
export interface StoreScpOptions {
  /** Our AE title; associations calling another AE are rejected (called-AE-not-recognized). */
  aeTitle: string;
  /** Interface to bind (e.g. 127.0.0.1 or 0.0.0.0). */
  host: string;
  /** TCP port; 0 picks a free one (see `listen()`'s result). */
  port: number;
  store: ScpInstanceStore;
  sink: IngestSink;
  logger: Logger;
  /** When set, only these calling AEs (from these IPs when given) may associate. */
  allowList?: AllowedPeer[];
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer; requestClientCert?: boolean };
  /** Concurrent connections beyond this are rejected with local-limit-exceeded (default 32). */
  maxAssociations?: number;
  /**
   * Largest P-DATA PDU we accept and announce (default 128 KiB, the most dcmtk accepts). Dataset
   * PDUs are streamed from the socket's chunks, never assembled, so a larger PDU costs us no
   * copy; it means fewer PDU/PDV headers and fewer, larger writes for the sender.
   */
  maxPduLength?: number;
  /** Close an association with no traffic and no work in progress for this long (default 60 s). */
  idleTimeoutMs?: number;
  /** Time allowed from TCP connect to A-ASSOCIATE-RQ (default 30 s). */
  associationTimeoutMs?: number;
  /** Answer 0xA700 when the store's filesystem has less free space than this (default: the store's own guard only). */
  minFreeBytes?: number;
  /** Metrics instruments; by default a private registry is created (read it via `metrics.registry`). */
  metrics?: ScpMetrics;
  /**
   * Datasets up to this size are received in memory and written once complete (default 8 MiB);
   * larger ones stream to a temp file. Worst-case memory is this times `maxAssociations`.
   */
  keepInMemoryBytes?: number;
}

/** A running storage SCP. */
export interface StoreScp {
  listen(): Promise<{ port: number }>;
  /** Stops accepting connections, waits for C-STOREs in progress to be answered, then closes every connection. */
  close(): Promise<void>;
  readonly metrics: ScpMetrics;
  /** The largest P-DATA PDU we accept and announce (bytes). */
  readonly maxPduLength: number;
}

const STATUS_SUCCESS = 0x0000;

/** Default {@link StoreScpOptions.maxPduLength}: 128 KiB, the upper end of what dcmtk and Orthanc accept. */
export const DEFAULT_MAX_PDU_LENGTH = 128 * 1024;
const MAX_NON_DATA_PDU = 1 << 20;
/** First size of an association's receive buffer; it grows to the largest dataset kept in memory. */
const INITIAL_RECEIVE_BUFFER = 1 << 20;


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

function statusHex(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A-ABORT PDU (PS3.8 9.3.8): written raw when dcmjs-dimse's state does not allow sendAbort(). */
function abortPdu(source: number, reason: number): Buffer {
  return Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, source, reason]);
}

/**
 * A growable byte buffer for received datasets, lent to one C-STORE at a time and given back
 * when its response is written: an association reuses one buffer for every instance instead of
 * allocating (and, once promoted, garbage-collecting) half a megabyte of chunks per instance.
 */
export class ReceiveBuffer {
  private bytes: Buffer;
  length = 0;

  constructor(initialCapacity: number) {
    this.bytes = Buffer.allocUnsafeSlow(initialCapacity);
  }

  get capacity(): number {
    return this.bytes.length;
  }

  append(chunk: Buffer): void {
    const need = this.length + chunk.length;
    if (need > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    chunk.copy(this.bytes, this.length);
    this.length = need;
  }

  /** The bytes received so far (a view: valid until the buffer is reset or grows). */
  view(): Buffer {
    return this.bytes.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}

/**
 * Receives one C-STORE dataset. Datasets up to `keepLimit` are copied into a {@link ReceiveBuffer}
 * and hashed as they arrive, and reach the disk in one write once complete and validated, so an
 * invalid one never touches the disk; beyond `keepLimit` the spool spills to a temp file in the
 * store and streams the rest there, with back-pressure. The fast path calls {@link append}
 * directly; dcmjs-dimse's path writes through the Writable interface.
 */
class DatasetSpool extends Writable {
  /** The in-memory dataset; undefined once spilled (the temp file then owns the bytes). */
  memory: ReceiveBuffer | undefined;
  /** sha256 of header + dataset, computed as the bytes arrive (off the post-receive critical path). */
  readonly hash: Hash;
  bytes = 0;
  target: ScpPendingWrite | undefined;
  failure: Error | undefined;
  private spill: Promise<void> | undefined;

  constructor(
    private readonly openTarget: () => Promise<ScpPendingWrite | undefined>,
    private readonly header: Buffer,
    private readonly keepLimit: number,
    memory: ReceiveBuffer,
    highWaterMark: number,
  ) {
    super({ highWaterMark });
    this.memory = memory;
    this.hash = createHash('sha256').update(header);
  }

  /** True once the dataset went to a temp file (too large to keep) or was refused while spilling. */
  get spilled(): boolean {
    return this.spill !== undefined;
  }

  /** Resolves when the temp file (if any) is open and every chunk was handed to it. */
  spillSettled(): Promise<void> {
    return this.spill ?? Promise.resolve();
  }

  /**
   * Takes the next dataset bytes synchronously while they fit in memory (the chunk may be a view
   * of a socket buffer: it is copied); otherwise goes through the stream. Returns false when the
   * caller should wait for 'drain'.
   */
  append(chunk: Buffer): boolean {
    if (!this.spill && this.bytes + chunk.length <= this.keepLimit && this.memory) {
      this.keep(chunk);
      return true;
    }
    return this.write(chunk);
  }

  private keep(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.memory?.append(chunk);
    this.hash.update(chunk);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._writev([{ chunk }], cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    if (!this.spill) {
      for (const c of chunks) this.keep(c.chunk);
      if (this.bytes <= this.keepLimit) {
        cb();
        return;
      }
      const kept = this.memory?.view();
      this.memory = undefined; // the temp file takes over; the buffer is not given back
      this.spill = this.openTarget().then(
        (target) => {
          this.target = target;
          if (target) {
            target.stream.write(this.header);
            if (kept) target.stream.write(kept);
          }
        },
        (err: unknown) => {
          this.failure ??= err as Error;
        },
      );
      this.spill.then(() => this.drainInto(cb), () => cb());
      return;
    }
    for (const c of chunks) this.bytes += c.chunk.length;
    this.spill.then(() => this.forward(chunks, cb), () => cb());
  }

  private drainInto(cb: (err?: Error | null) => void): void {
    const stream = this.target?.stream;
    if (!stream || stream.destroyed || !stream.writableNeedDrain) cb();
    else stream.once('drain', () => cb());
  }

  private forward(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const stream = this.target?.stream;
    if (!stream || this.failure || stream.destroyed) {
      cb(); // refused or failed: keep reading the PDVs, answer a failure status at the end
      return;
    }
    let ok = true;
    for (const c of chunks) ok = stream.write(c.chunk);
    if (ok) cb();
    else stream.once('drain', () => cb());
  }
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
function cStoreResponsePdu(job: Pick<StoreJob, 'sopClassUid' | 'sopInstanceUid' | 'presentationContextId' | 'messageId'>, answer: { status: number; comment?: string }): Buffer {
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

interface Pdv {
  pcId: number;
  command: boolean;
  last: boolean;
  value: Buffer;
}

/** Splits a P-DATA-TF PDU (header included) into its PDVs, as views; undefined when malformed. */
function splitPdvs(pdu: Buffer): Pdv[] | undefined {
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
function readCommandSet(buf: Buffer): { commandField: number; messageId: number; dataSetType: number; sopClassUid: string; sopInstanceUid: string } | undefined {
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

interface StoreJob {
  spool: DatasetSpool;
  header: Buffer;
  /** Resolves once the admission checks (closing, disk space, sink overload) have run. */
  admitted: Promise<void>;
  refusal?: ScpError;
  sopClassUid: string;
  sopInstanceUid: string;
  presentationContextId: number;
  messageId: number;
  /** The accepted transfer syntax of the presentation context (undefined when not accepted). */
  transferSyntaxUid: string | undefined;
  /** When the command arrived (for the receive-time breakdown in debug logs). */
  firstByteAt: number;
  /** How long the sender took from our previous response on this association to this command (debug logs). */
  senderMs?: number;
  /** Received through our P-DATA fast path rather than dcmjs-dimse's DIMSE decoding. */
  fastPath?: boolean;
}

interface Connection {
  id: string;
  socket: net.Socket;
  remoteAddress: string;
  startedAt: Date;
  handler?: InstanceType<typeof dimse.Scp>;
  associated: boolean;
  callingAeTitle: string;
  calledAeTitle: string;
  overLimit: boolean;
  inFlight: number;
  idle: Promise<void>;
  markIdle?: () => void;
  /** Datasets being received, keyed by request (dcmjs-dimse path) or by the job itself (fast path). */
  pending: Map<object, StoreJob>;
  /** The C-STORE whose dataset the fast path is receiving. */
  fastJob?: StoreJob;
  /** Whether the PDV being streamed into `fastJob` is its last fragment. */
  fastPdvLast: boolean;
  /** Our PDU reader (replaces dcmjs-dimse's on this socket). */
  reader?: PduReader;
  /** When we last wrote a C-STORE response (debug timing of the sender's turn-around). */
  lastResponseAt?: number;
  /** The receive buffer not lent to a C-STORE right now (reused by the next one). */
  spareBuffer?: ReceiveBuffer;
  stored: number;
  failed: number;
  bytes: number;
  ending: AssociationSummary['ending'];
}

/**
 * The C-ECHO/C-STORE SCP that receives studies from a PACS. Each instance is stored as received
 * (our Part-10 meta header + the sender's dataset bytes, untouched): received in memory (or
 * streamed to a temp file when large), checked for completeness and parsed, made durable,
 * renamed to its content address, recorded by the sink — and only then acknowledged (see the
 * README for the crash argument). Bad input gets a failure status or an abort; the listener keeps serving.
 */
export function createStoreScp(opts: StoreScpOptions): StoreScp {
  // dcmjs-dimse logs every PDU at trace level by default; we log what matters ourselves.
  quietDimseLogs();
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
  const inFlightStores = new Set<Promise<unknown>>();
  let server: net.Server | tls.Server | undefined;
  let closing = false;
  let connectionSeq = 0;
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
    if (closing) job.refusal = new OutOfResourcesError('SCP is shutting down');
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

  function endConnection(conn: Connection, ending: AssociationSummary['ending']): void {
    conn.ending = conn.ending === 'closed' ? ending : conn.ending;
    const socket = conn.socket;
    if (!socket.destroyed) socket.destroy();
  }

  function sendRawAbort(conn: Connection, reason: number): void {
    if (!conn.socket.destroyed && conn.socket.writable) conn.socket.write(abortPdu(AbortSource.ServiceProvider, reason));
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

  /** Aborts the association because a PDV does not continue the C-STORE dataset being received. */
  function abortUnexpectedPdv(conn: Connection): void {
    log.warn({ assoc: conn.id, callingAeTitle: conn.callingAeTitle }, 'unexpected PDV during a C-STORE dataset, aborting');
    sendRawAbort(conn, AbortReason.UnexpectedPdu);
    endConnection(conn, 'aborted');
  }

  /** The last dataset PDV of the fast-path C-STORE has arrived: validate, store and answer it. */
  function endFastJob(conn: Connection, job: StoreJob): void {
    job.spool.end();
    conn.pending.delete(job);
    conn.fastJob = undefined;
    finishStoreJob(conn, job);
  }

  /**
   * Handles a whole P-DATA-TF PDU if it belongs to a C-STORE (its command, possibly with the
   * first dataset fragments). Returns false to leave the PDU to dcmjs-dimse. The dataset PDUs
   * that follow are streamed by the PDU reader into {@link streamedPdvHandlers}.
   */
  function fastStore(conn: Connection, association: Association, pdu: Buffer): boolean {
    const pdvs = splitPdvs(pdu);
    if (!pdvs) return false; // malformed: dcmjs-dimse reports it and the connection is closed
    const first = pdvs[0];
    if (!first) return false;
    if (!conn.fastJob) {
      // Only a complete C-STORE-RQ command while dcmjs-dimse is idle starts the fast path.
      if (!first.command || !first.last || pdvs.slice(1).some((p) => p.command)) return false;
      const cmd = readCommandSet(first.value);
      if (!cmd || cmd.commandField !== 0x0001 || cmd.dataSetType === 0x0101) return false;
      const handler = conn.handler as unknown as { dimse?: unknown; dimseStream?: unknown };
      if (handler.dimse !== undefined) return false;
      // dcmjs-dimse leaves the stream of a dataset-less command (C-ECHO) behind; this PDV is a
      // complete command set (group length checked), so nothing partial is being dropped.
      handler.dimseStream = undefined;
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
    if (pdu[0] === 0x04 && association && fastStore(conn, association, pdu)) return;
    const processPdu = (dimse.Scp.prototype as unknown as { _processPdu(this: unknown, d: Buffer): Promise<void> })._processPdu;
    processPdu.call(handler, pdu).catch((err: unknown) => {
      log.warn({ assoc: conn.id, reason: (err as Error).message }, 'PDU processing failed, closing association');
      endConnection(conn, 'aborted');
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
        onInvalid: (problem) => rejectPdu(conn, problem),
      },
      { maxPDataLength: maxPduLength, maxOtherLength: MAX_NON_DATA_PDU },
    );
    conn.reader = reader;
    conn.socket.on('data', (chunk: Buffer) => reader.push(chunk));
  }

  function rejectPdu(conn: Connection, problem: PduProblem): void {
    const { kind, pduType, length, limit } = problem;
    const message = kind === 'pdu-too-long' ? 'PDU longer than allowed, aborting' : kind === 'unrecognized-pdu' ? 'unrecognized PDU, aborting' : 'malformed PDV, aborting';
    log.warn({ assoc: conn.id, remoteAddress: conn.remoteAddress, pduType, length, limit }, message);
    sendRawAbort(conn, kind === 'unrecognized-pdu' ? AbortReason.UnrecognizedPdu : AbortReason.InvalidPduParameter);
    endConnection(conn, 'aborted');
  }

  function createHandler(conn: Connection): InstanceType<typeof dimse.Scp> {
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
          this.sendAssociationReject(result, source, reason);
          setTimeout(() => endConnection(conn, 'closed'), 100).unref();
        };
        if (called !== opts.aeTitle) {
          reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized, 'rejected-called-ae', 'called AE not recognized');
          return;
        }
        if (allowList && !allowList.some((p) => p.aeTitle === calling && (p.ip === undefined || p.ip === conn.remoteAddress))) {
          reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized, 'rejected-calling-ae', 'calling AE/IP not allowed');
          return;
        }
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
            accepted += 1;
          } else {
            context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
          }
        }
        conn.associated = true;
        association.setMaxPduLength(maxPduLength);
        metrics.associations.inc({ result: 'accepted' });
        log.info({ assoc: conn.id, callingAeTitle: calling, remoteAddress: conn.remoteAddress, contexts: accepted }, 'association accepted');
        this.sendAssociationAccept();
      }

      override associationReleaseRequested(): void {
        conn.ending = 'released';
        this.sendAssociationReleaseResponse();
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
      sendRawAbort(conn, AbortReason.NotSpecified);
      endConnection(conn, 'timeout');
    });
    handler.on('networkError', (err: Error) => {
      if (!conn.socket.destroyed) {
        log.warn({ assoc: conn.id, callingAeTitle: conn.callingAeTitle, reason: err.message }, 'network error, closing association');
      }
      endConnection(conn, conn.ending === 'closed' ? 'aborted' : conn.ending);
    });
    return handler;
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
        if (conn.associated) sendRawAbort(conn, AbortReason.NotSpecified);
        endConnection(conn, 'aborted');
      }
      await stopped;
      log.info('storage SCP closed');
    },
  };
}
