import type { Writable } from 'node:stream';
import type { Logger } from '@ldh/config';
import type { InstanceIdentity } from './identify-instance.js';
import type { ScpMetrics } from '@ldh/observability';

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
  /**
   * PS3.8's ARTIM (default 30 s): time allowed from TCP connect to a complete A-ASSOCIATE-RQ, and
   * for the peer to close after our A-ASSOCIATE-RJ, A-RELEASE-RP or A-ABORT.
   */
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
  /** True between a successful listen() and close(): the readiness check "SCP listening". */
  readonly listening: boolean;
  /** The largest P-DATA PDU we accept and announce (bytes). */
  readonly maxPduLength: number;
}
