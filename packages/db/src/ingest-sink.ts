import type { Db } from './client.js';
import { appendAudit } from './audit.js';
import { recordReceivedInstance, type IngestOutcome, type ReceivedInstanceRecord } from './ingest.js';

/** How an association ended (structurally the SCP's AssociationSummary; no PHI). */
export interface AssociationSummaryRecord {
  associationId: string;
  callingAeTitle: string;
  calledAeTitle: string;
  remoteAddress: string;
  startedAt: Date;
  endedAt: Date;
  instancesStored: number;
  instancesFailed: number;
  bytesStored: number;
  ending: string;
}

/** Options of {@link createIngestSink}. */
export interface IngestSinkOptions {
  /** Who the audit trail names, e.g. `scp@host:pid`. */
  actor: string;
  /**
   * Commits in flight above which `isOverloaded()` is true, so the SCP answers 0xA700 instead of
   * queueing more work on a database that is already behind (default 64).
   */
  maxPendingCommits?: number;
}

/** The Postgres-backed sink the SCP calls; structurally an `IngestSink` of `@ldh/dicom`. */
export interface PostgresIngestSink {
  commit(instance: ReceivedInstanceRecord): Promise<{ outcome: IngestOutcome }>;
  associationClosed(summary: AssociationSummaryRecord): Promise<void>;
  isOverloaded(): Promise<boolean>;
  /** Commits currently in flight (for metrics and tests). */
  readonly pendingCommits: number;
}

const UNIQUE_VIOLATION = 'P2002';

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === UNIQUE_VIOLATION || /Unique constraint|duplicate key/i.test(e?.message ?? '');
}

/**
 * The SCP's durable sink: one transaction per instance (Study/Series upsert, Instance row,
 * reopen, audit), so the C-STORE is acknowledged only once its row is committed. Two senders
 * racing with identical bytes resolve to one row: the loser's unique violation means "duplicate".
 */
export function createIngestSink(db: Db, opts: IngestSinkOptions): PostgresIngestSink {
  const maxPending = opts.maxPendingCommits ?? 64;
  let pending = 0;

  return {
    get pendingCommits() {
      return pending;
    },
    async commit(instance) {
      pending += 1;
      try {
        try {
          return { outcome: await recordReceivedInstance(db, instance, opts.actor) };
        } catch (err) {
          // A concurrent transaction inserted the same (SOP Instance UID, sha256) or created the
          // same Study/Series first: retrying sees the committed row and answers consistently.
          if (!isUniqueViolation(err)) throw err;
          return { outcome: await recordReceivedInstance(db, instance, opts.actor) };
        }
      } finally {
        pending -= 1;
      }
    },
    async associationClosed(summary) {
      await appendAudit(db, {
        entityType: 'association',
        entityId: summary.associationId,
        action: `association.${summary.ending}`,
        actor: opts.actor,
        details: {
          callingAeTitle: summary.callingAeTitle,
          calledAeTitle: summary.calledAeTitle,
          remoteAddress: summary.remoteAddress,
          startedAt: summary.startedAt.toISOString(),
          endedAt: summary.endedAt.toISOString(),
          instancesStored: summary.instancesStored,
          instancesFailed: summary.instancesFailed,
          bytesStored: summary.bytesStored,
        },
      });
    },
    async isOverloaded() {
      return pending >= maxPending;
    },
  };
}
