import { failStudy, type JobStage } from '@ldh/db';
import { isFinalAttempt, type Job, type Worker } from '@ldh/queue';
import type { PipelineDeps } from './deps.js';

type TerminalDeps = Pick<PipelineDeps, 'db' | 'logger' | 'actor'>;

/** The pipeline stage of each queue (as named by the job contracts). */
const STAGE_OF_QUEUE: Record<string, JobStage> = { 'study-route': 'route', inference: 'inference', report: 'report', delivery: 'delivery' };

/** The study a job works on: route and inference payloads name it; a report job names its run. */
async function studyOfJob(deps: TerminalDeps, data: Record<string, unknown>): Promise<{ studyId: string; revision?: number } | null> {
  if (typeof data.studyId === 'string') return { studyId: data.studyId, ...(typeof data.revision === 'number' ? { revision: data.revision } : {}) };
  if (typeof data.inferenceRunId === 'string') {
    const run = await deps.db.inferenceRun.findUnique({ where: { id: data.inferenceRunId }, select: { studyId: true } });
    return run ? { studyId: run.studyId } : null;
  }
  return null;
}

/**
 * A job gave up for good (attempts exhausted or UnrecoverableError): move its study to `failed`
 * with the stage, a reason and the last error, and an audit event. A study that already moved on
 * (a newer revision, or a job that failed it itself) is left alone. Returns whether it failed the study.
 */
export async function failStudyForJob(deps: TerminalDeps, queueName: string, job: Pick<Job, 'data' | 'attemptsMade' | 'id'>, err: Error): Promise<boolean> {
  const stage = STAGE_OF_QUEUE[queueName];
  if (!stage) return false;
  const target = await studyOfJob(deps, job.data as Record<string, unknown>);
  if (!target) return false;
  const unrecoverable = err.name === 'UnrecoverableError';
  const reason = unrecoverable ? `${stage}: ${err.message}` : `${stage} job gave up after ${job.attemptsMade} attempt(s): ${err.message}`;
  const failed = await failStudy(deps.db, { studyId: target.studyId, stage, reason, lastError: err.message, actor: deps.actor, ...(target.revision !== undefined ? { revision: target.revision } : {}) });
  if (failed) deps.logger.warn({ jobId: job.id, stage, attemptsMade: job.attemptsMade }, 'study failed: job gave up');
  return failed;
}

/**
 * Wire a worker's 'failed' event: log every failure, and on the final one fail the study with
 * the reason. (If the process dies before this runs, the reconciler finds the failed job.)
 */
export function failStudiesOnFinalFailure(worker: Worker, deps: TerminalDeps): void {
  worker.on('failed', (job, err) => {
    deps.logger.warn({ queue: worker.name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message }, 'job failed');
    if (!job || !isFinalAttempt(job, err)) return;
    failStudyForJob(deps, worker.name, job, err).catch((e: unknown) => deps.logger.error({ queue: worker.name, jobId: job.id, err: (e as Error).message }, 'cannot record the failed study'));
  });
}
