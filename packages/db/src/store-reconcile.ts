import type { Db } from './client.js';
import { appendAudit } from './audit.js';
import { transitionStudy } from './studies.js';
import type { StudyState } from './generated/prisma/client.js';

/** The part of `@ldh/storage`'s InstanceStore reconciliation needs (structural: no dependency on it). */
export interface ReconcilableStore {
  exists(storageKey: string): Promise<boolean>;
  listObjects(): AsyncIterable<{ storageKey: string; sha256: string; mtimeMs: number }>;
  removeObject(storageKey: string): Promise<void>;
}

/** Options of {@link reconcileInstanceStore}. */
export interface ReconcileOptions {
  /** Who the audit trail names. */
  actor: string;
  /**
   * Objects no row references are removed only when older than this (default 10 min): another
   * role (the writer's SR/KOS) stores its object before the row that references it, so a young
   * unreferenced object may be a write in progress elsewhere.
   */
  orphanGraceMs?: number;
  /** Rows checked per query (default 1000). */
  pageSize?: number;
}

/** What reconciliation found and did (UIDs, keys and counts only: no PHI). */
export interface StoreReconciliation {
  rowsChecked: number;
  /** Instance rows whose file was missing: now marked (`fileMissingAt`) and audited. */
  missingFiles: Array<{ sopInstanceUid: string; studyInstanceUid: string; storageKey: string }>;
  /** Studies failed because an instance file is missing (not yet processed, so never with a hole). */
  failedStudies: string[];
  /**
   * Rows marked missing earlier whose file is back at its storage key (staging recovery put it
   * there, or an operator restored it): mark cleared, audited (`instance.file-restored`).
   */
  restoredFiles: Array<{ sopInstanceUid: string; studyInstanceUid: string; storageKey: string }>;
  /** Studies that had failed only for missing files and have none left: reopened (quiet period starts over). */
  reopenedStudies: string[];
  objectsChecked: number;
  /** Objects no Instance or Report row references, older than the grace period: deleted. */
  orphansRemoved: string[];
  /** Unreferenced objects younger than the grace period: left for a later run. */
  orphansKept: number;
}

/** States in which a study has not been classified yet: a missing file would become a hole in its input. */
const FAIL_IF_MISSING: readonly StudyState[] = ['receiving', 'settled', 'routed', 'inferring'];
export const MISSING_FILE_REASON = 'instance file missing';

/**
 * Startup reconciliation of the instance store with Postgres (run by the SCP role after staging
 * recovery and before listening):
 * - an Instance row whose file is missing is marked (`fileMissingAt`), audited
 *   (`instance.file-missing`), and its study fails with reason "instance file missing" unless it
 *   was already classified, so it is never processed with a hole; a resend of the same bytes
 *   clears the mark and reopens the study (`ldh_record_instance`);
 * - a row marked missing whose file is present again (staging recovery restored it: the rename
 *   had failed after the row committed; or an operator put it back) is cleared the same way, and
 *   its study reopens when that was its only reason to fail;
 * - an object that no Instance or Report row references was never acknowledged (the SCP answers
 *   Success only after the row commits), so the sender still holds it as unsent: it is removed
 *   rather than re-recorded (re-recording would add an instance the sender was told failed).
 * Scans every row and object: O(store) at startup.
 */
export async function reconcileInstanceStore(db: Db, store: ReconcilableStore, opts: ReconcileOptions): Promise<StoreReconciliation> {
  const result: StoreReconciliation = {
    rowsChecked: 0,
    missingFiles: [],
    failedStudies: [],
    restoredFiles: [],
    reopenedStudies: [],
    objectsChecked: 0,
    orphansRemoved: [],
    orphansKept: 0,
  };
  // Missing first: a study with one file back and another newly gone stays failed, rather than
  // being reopened and failed again in the same run.
  await markMissingFiles(db, store, opts, result);
  await clearRestoredFiles(db, store, opts, result);
  await removeOrphans(db, store, opts, result);
  if (result.orphansRemoved.length > 0) {
    await appendAudit(db, {
      entityType: 'system',
      entityId: 'instance-store',
      action: 'store.orphans-removed',
      actor: opts.actor,
      details: { count: result.orphansRemoved.length, storageKeys: result.orphansRemoved.slice(0, 100) },
    });
  }
  return result;
}

/** What reconciliation reads of an Instance row (UIDs, keys and hashes only). */
const ROW_SELECT = { id: true, sopInstanceUid: true, sha256: true, storageKey: true, studyId: true, study: { select: { studyInstanceUid: true } } } as const;
type CheckedRow = { id: string; sopInstanceUid: string; sha256: string; storageKey: string; studyId: string; study: { studyInstanceUid: string } };

/**
 * Pages through the Instance rows that are marked missing (`marked`) or not, and hands on, study
 * by study, those whose file presence disagrees with the mark: marked rows whose file is there,
 * or unmarked rows whose file is not. Returns how many rows it read.
 */
async function forEachMismatch(
  db: Db,
  store: ReconcilableStore,
  marked: boolean,
  pageSize: number,
  onStudy: (studyId: string, rows: CheckedRow[]) => Promise<void>,
): Promise<number> {
  let cursor: string | undefined;
  let read = 0;
  for (;;) {
    // Keyset paging on id (not Prisma's cursor + skip 1: a page's last row may have just left
    // the filter, being marked or cleared, and skip would then drop the next row instead).
    const rows: CheckedRow[] = await db.instance.findMany({
      where: { fileMissingAt: marked ? { not: null } : null, ...(cursor ? { id: { gt: cursor } } : {}) },
      select: ROW_SELECT,
      orderBy: { id: 'asc' },
      take: pageSize,
    });
    if (rows.length === 0) return read;
    read += rows.length;
    cursor = rows[rows.length - 1]?.id;
    const present = await Promise.all(rows.map((r) => store.exists(r.storageKey).catch(() => false)));
    const byStudy = new Map<string, CheckedRow[]>();
    for (const r of rows.filter((_, i) => present[i] === marked)) byStudy.set(r.studyId, [...(byStudy.get(r.studyId) ?? []), r]);
    for (const [studyId, instances] of byStudy) await onStudy(studyId, instances);
  }
}

const keysOf = (rows: CheckedRow[]) => rows.map((r) => ({ sopInstanceUid: r.sopInstanceUid, studyInstanceUid: r.study.studyInstanceUid, storageKey: r.storageKey }));

async function clearRestoredFiles(db: Db, store: ReconcilableStore, opts: ReconcileOptions, result: StoreReconciliation): Promise<void> {
  await forEachMismatch(db, store, true, opts.pageSize ?? 1000, async (studyId, instances) => {
    const { rows, reopened } = await markStudyRestored(db, studyId, instances, opts.actor);
    if (reopened) result.reopenedStudies.push(instances[0]?.study.studyInstanceUid ?? '');
    result.restoredFiles.push(...keysOf(rows));
  });
}

/**
 * Clears the marks still set and audits them (as a resend does in `ldh_record_instance`); reopens
 * the study when it failed for missing files and none are left.
 */
async function markStudyRestored(db: Db, studyId: string, instances: CheckedRow[], actor: string): Promise<{ rows: CheckedRow[]; reopened: boolean }> {
  return db.$transaction(async (tx) => {
    const study = await lockStudy(tx, studyId);
    // Under the study lock no resend can change these marks: clear (and audit) those still set.
    const still = await stillMarked(tx, instances, true);
    if (still.length === 0 || !study) return { rows: [], reopened: false };
    await tx.instance.updateMany({ where: { id: { in: still.map((r) => r.id) } }, data: { fileMissingAt: null } });
    await auditRows(tx, still, 'instance.file-restored', actor, { by: 'reconciliation' });
    if (study.state !== 'failed' || !study.stateReason?.startsWith(MISSING_FILE_REASON)) return { rows: still, reopened: false };
    if ((await tx.instance.count({ where: { studyId, fileMissingAt: { not: null } } })) > 0) return { rows: still, reopened: false };
    await tx.study.update({
      where: { id: studyId },
      data: { state: 'receiving', revision: { increment: 1 }, stateReason: null, settledAt: null, lastInstanceAt: new Date() },
    });
    await appendAudit(tx, {
      entityType: 'study',
      entityId: studyId,
      action: 'study.reopened',
      actor,
      studyInstanceUid: instances[0]?.study.studyInstanceUid ?? null,
      details: { from: 'failed', to: 'receiving', revision: study.revision + 1, reason: 'missing instance files restored' },
    });
    return { rows: still, reopened: true };
  });
}

async function markMissingFiles(db: Db, store: ReconcilableStore, opts: ReconcileOptions, result: StoreReconciliation): Promise<void> {
  result.rowsChecked += await forEachMismatch(db, store, false, opts.pageSize ?? 1000, async (studyId, instances) => {
    const { rows, failed } = await markStudyMissing(db, studyId, instances, opts.actor);
    if (failed) result.failedStudies.push(instances[0]?.study.studyInstanceUid ?? '');
    result.missingFiles.push(...keysOf(rows));
  });
}

/**
 * Marks one row's file missing at once (same effects as reconciliation finding it): used when
 * the SCP recorded an instance, in parallel with its file write, and then the write failed.
 * A no-op when the row is already marked or absent; true when it marked the row.
 */
export async function markInstanceFileMissing(db: Db, instance: { sopInstanceUid: string; sha256: string }, actor: string): Promise<boolean> {
  const row = await db.instance.findFirst({
    where: { sopInstanceUid: instance.sopInstanceUid, sha256: instance.sha256, fileMissingAt: null },
    select: ROW_SELECT,
  });
  if (!row) return false;
  return (await markStudyMissing(db, row.studyId, [row], actor)).rows.length > 0;
}

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/**
 * Locks the study row first, as `ldh_record_instance` does, so reconciliation and a concurrent
 * resend of one of its instances serialize (same lock order: no deadlock).
 */
async function lockStudy(tx: Tx, studyId: string): Promise<{ state: StudyState; stateReason: string | null; revision: number } | undefined> {
  const [study] = await tx.$queryRaw<Array<{ state: StudyState; stateReason: string | null; revision: number }>>`
    SELECT "state", "stateReason", "revision" FROM "Study" WHERE "id" = ${studyId}::uuid FOR UPDATE`;
  return study;
}

/** One audit event per row: its SOP Instance UID, content hash and storage key (no PHI). */
async function auditRows(tx: Tx, rows: CheckedRow[], action: string, actor: string, extra: Record<string, string> = {}): Promise<void> {
  for (const r of rows) {
    await appendAudit(tx, {
      entityType: 'instance',
      entityId: r.sopInstanceUid,
      action,
      actor,
      studyInstanceUid: r.study.studyInstanceUid,
      details: { sha256: r.sha256, storageKey: r.storageKey, ...extra },
    });
  }
}

/** The rows among `instances` whose mark is still (`marked`) set, or still unset, now that the study is locked. */
async function stillMarked(tx: Tx, instances: CheckedRow[], marked: boolean): Promise<CheckedRow[]> {
  const ids = await tx.instance.findMany({
    where: { id: { in: instances.map((r) => r.id) }, fileMissingAt: marked ? { not: null } : null },
    select: { id: true },
  });
  const keep = new Set(ids.map((r) => r.id));
  return instances.filter((r) => keep.has(r.id));
}

/** Marks and audits the rows not marked yet, and fails the study if it has not been classified yet. */
async function markStudyMissing(db: Db, studyId: string, instances: CheckedRow[], actor: string): Promise<{ rows: CheckedRow[]; failed: boolean }> {
  return db.$transaction(async (tx) => {
    await lockStudy(tx, studyId);
    const still = await stillMarked(tx, instances, false);
    if (still.length === 0) return { rows: [], failed: false };
    await tx.instance.updateMany({ where: { id: { in: still.map((r) => r.id) } }, data: { fileMissingAt: new Date() } });
    await auditRows(tx, still, 'instance.file-missing', actor);
    const study = await tx.study.findUniqueOrThrow({ where: { id: studyId }, select: { state: true } });
    if (!FAIL_IF_MISSING.includes(study.state)) return { rows: still, failed: false };
    await transitionStudy(
      db,
      { studyId, from: FAIL_IF_MISSING, to: 'failed', actor, reason: `${MISSING_FILE_REASON} (${still.length})`, details: { missing: still.map((r) => r.sopInstanceUid) } },
      tx,
    );
    return { rows: still, failed: true };
  });
}

async function removeOrphans(db: Db, store: ReconcilableStore, opts: ReconcileOptions, result: StoreReconciliation): Promise<void> {
  const graceMs = opts.orphanGraceMs ?? 10 * 60_000;
  const pageSize = opts.pageSize ?? 1000;
  let batch: Array<{ storageKey: string; sha256: string; mtimeMs: number }> = [];
  const settle = async (): Promise<void> => {
    const referenced = await referencedObjects(db, batch);
    const now = Date.now();
    for (const o of batch) {
      if (referenced.has(o.storageKey)) continue;
      if (now - o.mtimeMs < graceMs) {
        result.orphansKept += 1;
        continue;
      }
      await store.removeObject(o.storageKey);
      result.orphansRemoved.push(o.storageKey);
    }
    batch = [];
  };
  for await (const o of store.listObjects()) {
    result.objectsChecked += 1;
    batch.push(o);
    if (batch.length >= pageSize) await settle();
  }
  if (batch.length > 0) await settle();
}

/** Storage keys among `objects` that an Instance row (by content hash) or a Report row (SR/KOS key) references. */
async function referencedObjects(db: Db, objects: Array<{ storageKey: string; sha256: string }>): Promise<Set<string>> {
  const keys = objects.map((o) => o.storageKey);
  const [instances, reports] = await Promise.all([
    db.instance.findMany({ where: { sha256: { in: objects.map((o) => o.sha256) } }, select: { sha256: true }, distinct: ['sha256'] }),
    db.report.findMany({ where: { OR: [{ srStorageKey: { in: keys } }, { kosStorageKey: { in: keys } }] }, select: { srStorageKey: true, kosStorageKey: true } }),
  ]);
  const shas = new Set(instances.map((r) => r.sha256));
  const out = new Set(objects.filter((o) => shas.has(o.sha256)).map((o) => o.storageKey));
  for (const r of reports) {
    out.add(r.srStorageKey);
    if (r.kosStorageKey) out.add(r.kosStorageKey);
  }
  return out;
}
