import { addJobIntent, appendAudit, jobIntentId, replayDeliveries, type Db, type IntentStage, type Prisma, type ReplayResult, type StudyState, type Tx } from '@ldh/db';
import { bullmqPriority } from '@ldh/queue';

/** Thrown when the study is not in the database. */
export class StudyNotFoundError extends Error {
  constructor(readonly studyInstanceUid: string) {
    super(`no study ${studyInstanceUid} in the database`);
    this.name = 'StudyNotFoundError';
  }
}

/** Thrown when a study cannot be retried (not failed, unknown stage, nothing to retry); the message says why. */
export class RetryRefusedError extends Error {
  constructor(
    readonly studyInstanceUid: string,
    readonly why: string,
  ) {
    super(`cannot retry study ${studyInstanceUid}: ${why}`);
    this.name = 'RetryRefusedError';
  }
}

export type RetryStage = IntentStage | 'delivery';

export interface RetryResult {
  studyInstanceUid: string;
  from: StudyState;
  stage: RetryStage;
  to: StudyState;
  /** The job intent made pending for the stage (route/inference/report): the dispatcher sends it. */
  intent?: { id: string; attempt: number; jobId: string };
  /** The dead deliveries put back in the outbox (delivery stage). */
  replayed?: ReplayResult['replayed'];
}

/** The state a study goes back to for a retry of each stage, and the stage's intent. */
const BACK_TO = { route: 'settled', inference: 'routed', report: 'reporting' } as const satisfies Record<IntentStage, StudyState>;

/** The stage to retry a failed study from: Study.failedStage, else a routing decision of its revision that failed (a header the router could not read). */
async function failedStageOf(tx: Tx, study: { id: string; revision: number; failedStage: string | null }): Promise<string | null> {
  if (study.failedStage) return study.failedStage;
  const decision = await tx.routingDecision.findUnique({ where: { studyId_revision: { studyId: study.id, revision: study.revision } }, select: { verdict: true } });
  return decision?.verdict === 'failed' ? 'route' : null;
}

/** The payload of the stage's next job, from Postgres (as the reconciler derives it). */
async function payloadOf(tx: Tx, study: { id: string; studyInstanceUid: string; revision: number }, stage: IntentStage): Promise<Prisma.InputJsonValue | null> {
  if (stage !== 'report') return { studyId: study.id, studyInstanceUid: study.studyInstanceUid, revision: study.revision };
  const run = await tx.inferenceRun.findFirst({ where: { studyId: study.id, state: 'succeeded' }, orderBy: { finishedAt: 'desc' }, select: { id: true } });
  return run ? { inferenceRunId: run.id, studyInstanceUid: study.studyInstanceUid } : null;
}

/**
 * Retry a failed study from the stage that failed (Study.failedStage):
 * - route → back to `settled` with a route job intent;
 * - inference → back to `routed` with an inference job intent (the failed run is re-run under its idempotency key);
 * - report → back to `reporting` with a report job intent for the latest succeeded run;
 * - a `delivery_failed` study → its dead deliveries (latest report, enabled destinations) are replayed and it is `delivering` again.
 *
 * The stage's intent (id `<stage>-<studyId>-<revision>`) is re-armed under a new attempt, so its
 * BullMQ job id (`…-a<n>`) is one BullMQ has never seen: the failed job it keeps under the old id
 * cannot swallow the retry. The state change, the intent and the `study.retried` audit event
 * (operator, stage, from) commit in one transaction; the dispatcher of `ldh serve` sends the job.
 * Refused (RetryRefusedError) for a study that is not failed or delivery_failed.
 */
export async function retryStudy(db: Db, studyInstanceUid: string, operator: string): Promise<RetryResult> {
  if (!operator.trim()) throw new Error('an operator name is required to retry a study');
  return db.$transaction(async (tx) => {
    // Lock the row first: a concurrent retry waits, then reads the state this one left.
    await tx.$queryRaw`SELECT id FROM "Study" WHERE "studyInstanceUid" = ${studyInstanceUid} FOR UPDATE`;
    const study = await tx.study.findUnique({ where: { studyInstanceUid }, select: { id: true, studyInstanceUid: true, state: true, revision: true, priority: true, failedStage: true, lastError: true, stateReason: true } });
    if (!study) throw new StudyNotFoundError(studyInstanceUid);
    if (study.state === 'delivery_failed') return retryDelivery(tx, study, operator);
    if (study.state !== 'failed') throw new RetryRefusedError(studyInstanceUid, `it is ${study.state}, not failed or delivery_failed`);
    const stage = await failedStageOf(tx, study);
    if (stage === 'delivery') return retryDelivery(tx, study, operator);
    if (stage !== 'route' && stage !== 'inference' && stage !== 'report') {
      throw new RetryRefusedError(studyInstanceUid, stage ? `it failed at stage "${stage}", which cannot be retried` : 'it failed at no recorded stage (no failedStage and no failed routing decision)');
    }
    const payload = await payloadOf(tx, study, stage);
    if (!payload) throw new RetryRefusedError(studyInstanceUid, 'it failed at report but has no succeeded inference run to report; nothing to retry from');
    const to = BACK_TO[stage];
    const { count } = await tx.study.updateMany({
      where: { id: study.id, state: 'failed', revision: study.revision },
      data: { state: to, stateReason: null, failedStage: null, lastError: null },
    });
    if (count !== 1) throw new RetryRefusedError(studyInstanceUid, 'it changed while being retried');
    const intent = await armIntent(tx, study, stage, payload, `retried by ${operator}`);
    await appendAudit(tx, {
      entityType: 'study',
      entityId: study.id,
      studyInstanceUid,
      action: 'study.retried',
      actor: operator,
      details: { from: 'failed', to, stage, operator, revision: study.revision, previousReason: study.stateReason, previousError: study.lastError, intentId: intent.id, jobId: intent.jobId },
    });
    return { studyInstanceUid, from: 'failed', stage, to, intent };
  });
}

/**
 * Make the stage's intent pending: created when absent, else re-armed under the next attempt
 * (a new BullMQ job id), whatever state it was in.
 */
async function armIntent(tx: Tx, study: { id: string; revision: number; priority: number }, stage: IntentStage, payload: Prisma.InputJsonValue, reason: string) {
  const id = jobIntentId(stage, study.id, study.revision);
  const existing = await tx.jobIntent.findUnique({ where: { id } });
  const row = existing
    ? await tx.jobIntent.update({
        where: { id },
        data: { state: 'pending', attempt: existing.attempt + 1, jobId: null, dispatchedAt: null, lastError: reason.slice(0, 500), payload },
      })
    : await addJobIntent(tx, { studyId: study.id, stage, revision: study.revision, payload, priority: bullmqPriority(study.priority) });
  return { id: row.id, attempt: row.attempt, jobId: row.attempt === 0 ? row.id : `${row.id}-a${row.attempt}` };
}

/** A delivery_failed (or failed at delivery) study: replay the dead deliveries of its latest report to enabled destinations. */
async function retryDelivery(tx: Tx, study: { id: string; studyInstanceUid: string; state: StudyState; revision: number }, operator: string): Promise<RetryResult> {
  const latest = await tx.report.findFirst({ where: { studyId: study.id }, orderBy: { version: 'desc' }, include: { deliveries: { where: { state: 'dead', destination: { enabled: true } }, select: { id: true } } } });
  if (!latest) throw new RetryRefusedError(study.studyInstanceUid, `it is ${study.state} at delivery but has no report`);
  if (latest.deliveries.length === 0) throw new RetryRefusedError(study.studyInstanceUid, `report v${latest.version} has no dead delivery to an enabled destination to replay`);
  if (study.state === 'failed') {
    // Failed at delivery by a job (older pipelines): back to delivery_failed first, so the replay moves it to delivering.
    await tx.study.update({ where: { id: study.id }, data: { state: 'delivery_failed', failedStage: null, lastError: null } });
  }
  const result = await replayDeliveries(tx as unknown as Db, { ids: latest.deliveries.map((d) => d.id) }, operator, tx);
  const after = await tx.study.findUniqueOrThrow({ where: { id: study.id }, select: { state: true } });
  await tx.study.update({ where: { id: study.id }, data: { failedStage: null, lastError: null } });
  await appendAudit(tx, {
    entityType: 'study',
    entityId: study.id,
    studyInstanceUid: study.studyInstanceUid,
    action: 'study.retried',
    actor: operator,
    details: { from: study.state, to: after.state, stage: 'delivery', operator, revision: study.revision, reportVersion: latest.version, replayed: result.replayed.map((r) => r.id) },
  });
  return { studyInstanceUid: study.studyInstanceUid, from: study.state, stage: 'delivery', to: after.state, replayed: result.replayed };
}
