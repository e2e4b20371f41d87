import type { Db, Tx } from './client.js';
import { appendAudit } from './audit.js';
import { addJobIntent } from './job-intents.js';
import { NotFoundError, StateConflictError } from './errors.js';
import type { Prisma, StudyState } from './generated/prisma/client.js';

/**
 * Move a study from one of `from` to `to`, with its audit event, in one transaction. The
 * conditional update makes concurrent or replayed jobs lose cleanly instead of double-moving.
 */
export async function transitionStudy(
  db: Db,
  args: {
    studyId: string;
    from: readonly StudyState[];
    to: StudyState;
    actor: string;
    reason?: string | null;
    details?: Prisma.InputJsonValue;
    data?: Prisma.StudyUpdateManyMutationInput;
  },
  tx?: Tx,
): Promise<void> {
  const run = async (t: Tx) => {
    const study = await t.study.findUnique({ where: { id: args.studyId }, select: { studyInstanceUid: true, state: true } });
    if (!study) throw new NotFoundError('study', args.studyId);
    const { count } = await t.study.updateMany({
      where: { id: args.studyId, state: { in: [...args.from] } },
      data: { ...args.data, state: args.to, stateReason: args.reason ?? null },
    });
    if (count !== 1) throw new StateConflictError('study', args.studyId, args.from, args.to);
    await appendAudit(t, {
      entityType: 'study',
      entityId: args.studyId,
      studyInstanceUid: study.studyInstanceUid,
      action: `study.${args.to}`,
      actor: args.actor,
      details: { from: study.state, to: args.to, ...(args.reason ? { reason: args.reason } : {}), ...(args.details as object) },
    });
  };
  if (tx) await run(tx);
  else await db.$transaction(run);
}

export interface SettledStudy {
  studyId: string;
  studyInstanceUid: string;
  revision: number;
  priority: number;
}

/**
 * Studies whose quiet period has elapsed (no instance for `quietPeriodMs`). State is read from
 * Postgres, so after a restart pending studies still settle (restart-safe assembly).
 */
export async function findStudiesToSettle(db: Db, quietPeriodMs: number, now = new Date(), limit = 100): Promise<SettledStudy[]> {
  const cutoff = new Date(now.getTime() - quietPeriodMs);
  const rows = await db.study.findMany({
    where: { state: 'receiving', lastInstanceAt: { lte: cutoff } },
    orderBy: { lastInstanceAt: 'asc' },
    take: limit,
    select: { id: true, studyInstanceUid: true, revision: true, priority: true },
  });
  return rows.map((r) => ({ studyId: r.id, studyInstanceUid: r.studyInstanceUid, revision: r.revision, priority: r.priority }));
}

/** A receiving study quiet for the short period but not yet the long one. */
export interface EarlySettleCandidate extends SettledStudy {
  lastInstanceAt: Date;
}

/**
 * Studies quiet for at least `earlySettleMs` but less than `quietPeriodMs`: they may settle
 * early once their content holds every role (the settler checks; completeness by content).
 */
export async function findEarlySettleCandidates(db: Db, earlySettleMs: number, quietPeriodMs: number, now = new Date(), limit = 100): Promise<EarlySettleCandidate[]> {
  const rows = await db.study.findMany({
    where: { state: 'receiving', lastInstanceAt: { lte: new Date(now.getTime() - earlySettleMs), gt: new Date(now.getTime() - quietPeriodMs) } },
    orderBy: { lastInstanceAt: 'asc' },
    take: limit,
    select: { id: true, studyInstanceUid: true, revision: true, priority: true, lastInstanceAt: true },
  });
  return rows.map((r) => ({ studyId: r.id, studyInstanceUid: r.studyInstanceUid, revision: r.revision, priority: r.priority, lastInstanceAt: r.lastInstanceAt }));
}

/**
 * The series of a study as the database knows them (names, SOP classes, per-instance geometry):
 * routing facts without reading a file.
 */
export async function loadStudySeriesRecords(db: Db, studyId: string) {
  return db.series.findMany({
    where: { studyId },
    orderBy: { seriesNumber: 'asc' },
    select: {
      seriesInstanceUid: true,
      modality: true,
      seriesDescription: true,
      bodyPartExamined: true,
      seriesNumber: true,
      instances: { where: { isCurrent: true }, select: { sopClassUid: true, imagePositionPatient: true, imageOrientationPatient: true, frames: true } },
    },
  });
}

/**
 * Mark a study settled, only if no instance arrived since it was found (lastInstanceAt unchanged
 * relative to the cutoff) — otherwise the quiet period restarts and this returns false.
 * `quietPeriodMs` is the period that elapsed: the long one, or the short one of an early settle
 * (`trigger: 'content'`, recorded in the audit event with the roles found).
 */
export async function markStudySettled(
  db: Db,
  study: SettledStudy,
  quietPeriodMs: number,
  actor: string,
  now = new Date(),
  trigger: { by: 'quiet-period' } | { by: 'content'; roles: Record<string, string> } = { by: 'quiet-period' },
): Promise<boolean> {
  const cutoff = new Date(now.getTime() - quietPeriodMs);
  return db.$transaction(async (tx) => {
    const { count } = await tx.study.updateMany({
      where: { id: study.studyId, state: 'receiving', revision: study.revision, lastInstanceAt: { lte: cutoff } },
      data: { state: 'settled', settledAt: now, stateReason: null },
    });
    if (count !== 1) return false;
    // The route job's intent commits with the state change: a Redis outage cannot strand the study.
    await addJobIntent(tx, {
      studyId: study.studyId,
      stage: 'route',
      revision: study.revision,
      payload: { studyId: study.studyId, studyInstanceUid: study.studyInstanceUid, revision: study.revision },
    });
    const s = await tx.study.findUniqueOrThrow({ where: { id: study.studyId }, select: { instanceCount: true, firstInstanceAt: true, lastInstanceAt: true } });
    await appendAudit(tx, {
      entityType: 'study',
      entityId: study.studyId,
      studyInstanceUid: study.studyInstanceUid,
      action: 'study.settled',
      actor,
      details: {
        from: 'receiving',
        to: 'settled',
        revision: study.revision,
        instanceCount: s.instanceCount,
        receiveSpanMs: s.lastInstanceAt.getTime() - s.firstInstanceAt.getTime(),
        quietPeriodMs,
        settledBy: trigger.by,
        ...(trigger.by === 'content' ? { roles: trigger.roles } : {}),
      },
    });
    return true;
  });
}

/** A study with its series and current instances, for routing and inference. */
export async function loadStudyForProcessing(db: Db, studyId: string) {
  const study = await db.study.findUnique({
    where: { id: studyId },
    include: {
      series: { orderBy: { seriesNumber: 'asc' }, include: { instances: { where: { isCurrent: true }, orderBy: { instanceNumber: 'asc' } } } },
    },
  });
  if (!study) throw new NotFoundError('study', studyId);
  return study;
}
export type StudyForProcessing = Awaited<ReturnType<typeof loadStudyForProcessing>>;

/** Record which series plays which role (t1_sag / t2_sag / t2_ax / other) as decided by the router. */
export async function setSeriesRoles(db: Db | Tx, roles: Array<{ seriesId: string; role: string }>): Promise<void> {
  for (const r of roles) await db.series.update({ where: { id: r.seriesId }, data: { role: r.role } });
}

/** Study summary rows, newest first (CLI/dashboard). */
export async function listStudies(db: Db, limit = 50) {
  return db.study.findMany({ orderBy: { createdAt: 'desc' }, take: limit });
}

/** The states in which a stage's job is the study's next step. */
export const STAGE_STATES = {
  route: ['settled'],
  inference: ['routed', 'inferring'],
  report: ['reporting'],
  delivery: ['delivering'],
} as const satisfies Record<string, readonly StudyState[]>;
export type JobStage = keyof typeof STAGE_STATES;

/**
 * A job of `stage` gave up (attempts exhausted, or an unrecoverable error): the study moves to
 * `failed` with the stage, the reason and the last error, and its audit event. Only when the
 * study is still where that stage left it (and at `revision` when given): a late failure of an
 * outdated job never fails a study that moved on. Returns whether the study was failed.
 */
export async function failStudy(
  db: Db,
  args: { studyId: string; stage: JobStage; reason: string; lastError?: string | null; actor: string; revision?: number },
  tx?: Tx,
): Promise<boolean> {
  const run = async (t: Tx) => {
    const study = await t.study.findUnique({ where: { id: args.studyId }, select: { studyInstanceUid: true, state: true, revision: true } });
    if (!study) throw new NotFoundError('study', args.studyId);
    const lastError = (args.lastError ?? args.reason).slice(0, 2_000);
    const { count } = await t.study.updateMany({
      where: { id: args.studyId, state: { in: [...STAGE_STATES[args.stage]] }, ...(args.revision !== undefined ? { revision: args.revision } : {}) },
      data: { state: 'failed', stateReason: args.reason, failedStage: args.stage, lastError },
    });
    if (count !== 1) return false;
    await appendAudit(t, {
      entityType: 'study',
      entityId: args.studyId,
      studyInstanceUid: study.studyInstanceUid,
      action: 'study.failed',
      actor: args.actor,
      details: { from: study.state, to: 'failed', stage: args.stage, reason: args.reason, lastError, revision: study.revision },
    });
    return true;
  };
  return tx ? run(tx) : db.$transaction(run);
}
