import { createHash } from 'node:crypto';
import type { Db } from './client.js';
import { appendAudit } from './audit.js';

/** What the SCP knows about a stored instance (structurally the SCP's ReceivedInstance). */
export interface ReceivedInstanceRecord {
  sopInstanceUid: string;
  sopClassUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  sha256: string;
  sizeBytes: number;
  storageKey: string;
  callingAeTitle: string;
  calledAeTitle?: string;
  remoteAddress?: string;
  receivedAt: Date;
  modality?: string;
  seriesDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  imageOrientationPatient?: number[];
  imagePositionPatient?: number[];
  bodyPartExamined?: string;
  rows?: number;
  columns?: number;
  /** Used only to derive patientIdHash; never stored or logged in clear. */
  patientId?: string;
}

export type IngestOutcome = 'stored' | 'duplicate' | 'new-version';

/** States after which a late instance reopens the study (a new revision). */
const PROCESSED_STATES = ['settled', 'routed', 'inferring', 'reporting', 'delivering', 'done', 'skipped', 'failed'] as const;

/**
 * Commit one received instance: upsert Study/Series, insert the Instance row, bump the study's
 * quiet-period clock, reopen a processed study, and audit — one transaction. The SCP answers
 * success only after this resolves (invariant 1).
 */
export async function recordReceivedInstance(db: Db, inst: ReceivedInstanceRecord, actor = 'scp'): Promise<IngestOutcome> {
  return db.$transaction(async (tx) => {
    const existing = await tx.instance.findMany({ where: { sopInstanceUid: inst.sopInstanceUid }, select: { id: true, sha256: true } });
    if (existing.some((e) => e.sha256 === inst.sha256)) return 'duplicate';

    const patientIdHash = inst.patientId ? createHash('sha256').update(inst.patientId).digest('hex') : null;
    const study = await tx.study.upsert({
      where: { studyInstanceUid: inst.studyInstanceUid },
      create: {
        studyInstanceUid: inst.studyInstanceUid,
        firstInstanceAt: inst.receivedAt,
        lastInstanceAt: inst.receivedAt,
        patientIdHash,
      },
      update: { lastInstanceAt: inst.receivedAt },
    });
    let reopened = false;
    if ((PROCESSED_STATES as readonly string[]).includes(study.state)) {
      await tx.study.update({ where: { id: study.id }, data: { state: 'receiving', revision: { increment: 1 }, stateReason: null, settledAt: null } });
      reopened = true;
    }
    const series = await tx.series.upsert({
      where: { seriesInstanceUid: inst.seriesInstanceUid },
      create: {
        studyId: study.id,
        seriesInstanceUid: inst.seriesInstanceUid,
        modality: inst.modality ?? null,
        seriesDescription: inst.seriesDescription ?? null,
        seriesNumber: inst.seriesNumber ?? null,
        bodyPartExamined: inst.bodyPartExamined ?? null,
      },
      update: {},
    });
    if (existing.length > 0) {
      await tx.instance.updateMany({ where: { sopInstanceUid: inst.sopInstanceUid }, data: { isCurrent: false } });
    }
    await tx.instance.create({
      data: {
        studyId: study.id,
        seriesId: series.id,
        sopInstanceUid: inst.sopInstanceUid,
        sopClassUid: inst.sopClassUid,
        transferSyntaxUid: inst.transferSyntaxUid,
        sha256: inst.sha256,
        sizeBytes: BigInt(inst.sizeBytes),
        storageKey: inst.storageKey,
        instanceNumber: inst.instanceNumber ?? null,
        imagePositionPatient: inst.imagePositionPatient ?? [],
        imageOrientationPatient: inst.imageOrientationPatient ?? [],
        rows: inst.rows ?? null,
        columns: inst.columns ?? null,
        callingAeTitle: inst.callingAeTitle,
        remoteAddress: inst.remoteAddress ?? null,
        receivedAt: inst.receivedAt,
      },
    });
    if (existing.length === 0) {
      await tx.study.update({ where: { id: study.id }, data: { instanceCount: { increment: 1 } } });
      await tx.series.update({ where: { id: series.id }, data: { instanceCount: { increment: 1 } } });
    }
    if (study.instanceCount === 0 && !reopened) {
      await appendAudit(tx, {
        entityType: 'study',
        entityId: study.id,
        studyInstanceUid: inst.studyInstanceUid,
        action: 'study.receiving',
        actor,
        details: { callingAeTitle: inst.callingAeTitle, firstSopInstanceUid: inst.sopInstanceUid },
      });
    }
    if (reopened) {
      await appendAudit(tx, {
        entityType: 'study',
        entityId: study.id,
        studyInstanceUid: inst.studyInstanceUid,
        action: 'study.reopened',
        actor,
        details: { from: study.state, to: 'receiving', revision: study.revision + 1, sopInstanceUid: inst.sopInstanceUid },
      });
    }
    if (existing.length > 0) {
      await appendAudit(tx, {
        entityType: 'instance',
        entityId: inst.sopInstanceUid,
        studyInstanceUid: inst.studyInstanceUid,
        action: 'instance.version-conflict',
        actor,
        details: { sha256: inst.sha256, previous: existing.map((e) => e.sha256), policy: 'keep-both-newest-current' },
      });
      return 'new-version';
    }
    return 'stored';
  });
}
