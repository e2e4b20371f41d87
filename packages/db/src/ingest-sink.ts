import type { AssociationSummary } from '@ldh/dicom';
import type { Db } from './client.js';
import { appendAudit } from './audit.js';
import pg from 'pg';
import { markInstanceFileMissing } from './store-reconcile.js';
import { recordReceivedInstances, recordReceivedInstancesPg, type IngestOutcome, type ReceivedInstanceRecord } from './ingest.js';

/** How an association ended, as the SCP reports it (no PHI). */
export type AssociationSummaryRecord = AssociationSummary;

/** Options of {@link createIngestSink}. */
export interface IngestSinkOptions {
  /** Who the audit trail names, e.g. `scp@host:pid`. */
  actor: string;
  /**
   * Commits in flight above which `isOverloaded()` is true, so the SCP answers 0xA700 instead of
   * queueing more work on a database that is already behind (default 64).
   */
  maxPendingCommits?: number;
  /** Most instances recorded in one group-commit transaction (default 32; 1 disables batching). */
  maxBatch?: number;
  /**
   * When set, instances are recorded over a small dedicated node-postgres pool to this database
   * (the same one `db` uses) instead of through Prisma: far less CPU per instance.
   */
  databaseUrl?: string;
}

/** The Postgres-backed sink the SCP calls; structurally an `IngestSink` of `@ldh/dicom`. */
export interface PostgresIngestSink {
  commit(instance: ReceivedInstanceRecord): Promise<{ outcome: IngestOutcome }>;
  associationClosed(summary: AssociationSummaryRecord): Promise<void>;
  /** The SCP recorded `instance` but could not store its file: mark the row missing (see reconciliation). */
  fileNotStored(instance: ReceivedInstanceRecord): Promise<void>;
  isOverloaded(): Promise<boolean>;
  /** Commits currently in flight (for metrics and tests). */
  readonly pendingCommits: number;
  /** Closes the dedicated pool, if any (after the SCP has drained). */
  close(): Promise<void>;
}

const UNIQUE_VIOLATION = 'P2002';

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === UNIQUE_VIOLATION || e?.code === '23505' || /Unique constraint|duplicate key/i.test(e?.message ?? '');
}

/**
 * The SCP's durable sink. Each instance is acknowledged only once its row is committed, but
 * commits are grouped: while one transaction is in flight, instances arriving from other
 * associations queue and go together in the next one (one statement, one WAL flush, one lock
 * of the study row). A single association therefore sees no added latency, and parallel
 * associations of one study stop queueing on the study row one commit at a time. Two senders
 * racing with identical bytes resolve to one row: the loser's unique violation means "duplicate".
 */
export function createIngestSink(db: Db, opts: IngestSinkOptions): PostgresIngestSink {
  const maxPending = opts.maxPendingCommits ?? 64;
  const maxBatch = Math.max(1, opts.maxBatch ?? 32);
  let pending = 0;
  type Waiter = { instance: ReceivedInstanceRecord; resolve: (o: IngestOutcome) => void; reject: (e: unknown) => void };
  const queue: Waiter[] = [];
  let flushing = false;

  const pool = opts.databaseUrl ? new pg.Pool({ connectionString: opts.databaseUrl, max: 2 }) : undefined;
  pool?.on('error', () => undefined); // idle client errors surface on the next query instead

  function record(batch: ReceivedInstanceRecord[]): Promise<IngestOutcome[]> {
    return pool ? recordReceivedInstancesPg(pool, batch, opts.actor) : recordReceivedInstances(db, batch, opts.actor);
  }

  async function recordOne(instance: ReceivedInstanceRecord): Promise<IngestOutcome> {
    try {
      return (await record([instance]))[0] as IngestOutcome;
    } catch (err) {
      // A concurrent transaction (another process) inserted the same (SOP Instance UID, sha256)
      // or created the same Study/Series first: retrying sees the committed row.
      if (!isUniqueViolation(err)) throw err;
      return (await record([instance]))[0] as IngestOutcome;
    }
  }

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (queue.length > 0) {
        // Stable lock order across processes: by study, then arrival.
        const batch = queue.splice(0, maxBatch).sort((a, b) => (a.instance.studyInstanceUid < b.instance.studyInstanceUid ? -1 : a.instance.studyInstanceUid > b.instance.studyInstanceUid ? 1 : 0));
        if (batch.length === 1) {
          const [w] = batch as [Waiter];
          await recordOne(w.instance).then(w.resolve, w.reject);
          continue;
        }
        try {
          const outcomes = await record(batch.map((w) => w.instance));
          batch.forEach((w, i) => w.resolve(outcomes[i] as IngestOutcome));
        } catch {
          // One bad row must not fail the others: fall back to one transaction each.
          for (const w of batch) await recordOne(w.instance).then(w.resolve, w.reject);
        }
      }
    } finally {
      flushing = false;
    }
  }

  return {
    get pendingCommits() {
      return pending;
    },
    async commit(instance) {
      pending += 1;
      try {
        const outcome = await new Promise<IngestOutcome>((resolve, reject) => {
          queue.push({ instance, resolve, reject });
          if (!flushing) void flush();
        });
        return { outcome };
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
    async fileNotStored(instance) {
      await markInstanceFileMissing(db, instance, opts.actor);
    },
    async isOverloaded() {
      return pending >= maxPending;
    },
    async close() {
      await pool?.end();
    },
  };
}
