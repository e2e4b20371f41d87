import { addJobIntent, failStudy, getJobIntent, jobIntentId, rearmIntent, type IntentStage, type Prisma } from '@ldh/db';
import { bullmqPriority, LIVE_JOB_STATES } from '@ldh/queue';
import type { PipelineDeps } from './deps.js';
import { queueOfStage, startPeriodic } from './dispatcher.js';
import { findLongReceiving, findStuckDelivering } from './reconcile-outbox.js';

type ReconcileDeps = Pick<PipelineDeps, 'db' | 'queues' | 'logger' | 'actor'>;

/** The stage whose job is the next step of a study in each non-terminal, job-driven state. */
const STAGE_OF_STATE = { settled: 'route', routed: 'inference', inferring: 'inference', reporting: 'report' } as const satisfies Record<string, IntentStage>;

/** What is wrong with a study that should be moving. */
export type StuckProblem =
  /** No intent for the study's next job exists in Postgres. */
  | 'no-intent'
  /** The intent was dispatched, but BullMQ has no live job for it (flushed, removed, or completed without moving the study). */
  | 'job-lost'
  /** BullMQ gave up on the job (attempts exhausted / unrecoverable) and the study was not failed. */
  | 'job-failed'
  /** The study cannot proceed (e.g. `reporting` without a succeeded inference run). */
  | 'cannot-proceed'
  /** `delivering`, but no delivery of the latest report is left to send (all delivered, or one dead): nothing will settle it. */
  | 'deliveries-finished'
  /** `receiving` far longer than the quiet period (the settler is not running); reported only. */
  | 'not-settling';

export interface StuckStudy {
  studyId: string;
  studyInstanceUid: string;
  state: string;
  revision: number;
  /** The stage that should move the study: a job intent's, or `delivery` (the outbox) or `settle` (the settler). */
  stage: IntentStage | 'delivery' | 'settle';
  /** The job intent of the next step; null for the delivery and settle stages. */
  intentId: string | null;
  problem: StuckProblem;
  detail: string;
  /** What --fix did (absent when not fixing). */
  action?: 'intent-created' | 'intent-rearmed' | 'study-failed' | 'study-settled' | 'none';
}

export interface ReconcileOptions {
  /** Repair what is found: create or re-arm the intent, or fail the study with the reason. */
  fix: boolean;
  /** Ignore studies whose state changed less than this long ago (a job may be committing). Default 5 s. */
  minAgeMs?: number;
  now?: Date;
  limit?: number;
  /** The settler's quiet period: when given, `receiving` studies quiet for 10× as long are reported (never repaired). */
  quietPeriodMs?: number;
}

/** The payload and BullMQ priority of a study's next job, derived from Postgres alone. */
async function deriveIntent(
  deps: ReconcileDeps,
  study: { id: string; studyInstanceUid: string; revision: number; priority: number },
  stage: IntentStage,
): Promise<{ payload: Prisma.InputJsonValue; priority: number } | { cannot: string }> {
  const priority = bullmqPriority(study.priority);
  if (stage !== 'report') return { payload: { studyId: study.id, studyInstanceUid: study.studyInstanceUid, revision: study.revision }, priority };
  const run = await deps.db.inferenceRun.findFirst({ where: { studyId: study.id, state: 'succeeded' }, orderBy: { finishedAt: 'desc' }, select: { id: true } });
  if (!run) return { cannot: 'study is reporting but has no succeeded inference run to report' };
  return { payload: { inferenceRunId: run.id, studyInstanceUid: study.studyInstanceUid }, priority };
}

/**
 * Re-derive the next job of every non-terminal study from Postgres and compare with BullMQ:
 * `settled` → route, `routed`/`inferring` → inference, `reporting` → report. A study whose next
 * job has neither a pending intent nor a live BullMQ job is stuck: with `fix`, its intent is
 * created or re-armed under a new BullMQ job id (the dispatcher sends it), or — when BullMQ gave
 * up on the job, or the study cannot proceed — the study is failed with the reason. This is what
 * makes a flushed or restarted Redis lose nothing, and what `ldh doctor` reports.
 * `delivering` is driven by the delivery outbox: it is stuck when no delivery of its latest report
 * is left to send, and `fix` settles it (done / delivery_failed). With `quietPeriodMs`, a
 * `receiving` study quiet for 10× that is reported. `failed`, `delivery_failed`, `done` and
 * `skipped` are terminal.
 */
export async function reconcileStudies(deps: ReconcileDeps, opts: ReconcileOptions): Promise<StuckStudy[]> {
  const now = opts.now ?? new Date();
  const studies = await deps.db.study.findMany({
    where: { state: { in: Object.keys(STAGE_OF_STATE) as Array<keyof typeof STAGE_OF_STATE> }, updatedAt: { lte: new Date(now.getTime() - (opts.minAgeMs ?? 5_000)) } },
    orderBy: { updatedAt: 'asc' },
    take: opts.limit ?? 1_000,
    select: { id: true, studyInstanceUid: true, state: true, revision: true, priority: true },
  });
  const found: StuckStudy[] = [];
  for (const study of studies) {
    const stage = STAGE_OF_STATE[study.state as keyof typeof STAGE_OF_STATE];
    const intentId = jobIntentId(stage, study.id, study.revision);
    const base = { studyId: study.id, studyInstanceUid: study.studyInstanceUid, state: study.state, revision: study.revision, stage, intentId };
    const intent = await getJobIntent(deps.db, intentId);
    if (intent?.state === 'pending') continue; // the dispatcher will send it
    if (!intent) {
      const derived = await deriveIntent(deps, study, stage);
      if ('cannot' in derived) {
        const item: StuckStudy = { ...base, problem: 'cannot-proceed', detail: derived.cannot };
        if (opts.fix) item.action = (await failStudy(deps.db, { studyId: study.id, stage, reason: derived.cannot, actor: deps.actor, revision: study.revision })) ? 'study-failed' : 'none';
        found.push(item);
        continue;
      }
      const item: StuckStudy = { ...base, problem: 'no-intent', detail: `no ${stage} job intent for revision ${study.revision}` };
      if (opts.fix) {
        await addJobIntent(deps.db, { studyId: study.id, stage, revision: study.revision, payload: derived.payload, priority: derived.priority });
        item.action = 'intent-created';
      }
      found.push(item);
      continue;
    }
    const job = intent.jobId ? await queueOfStage(deps.queues, stage).queue.getJob(intent.jobId) : undefined;
    const jobState = job ? await job.getState() : 'missing';
    if (LIVE_JOB_STATES.has(jobState)) continue;
    // The study row was read before the job: a job that completed (or failed) meanwhile has usually
    // moved the study on already. Judge only a study still where it was (scale-out test: another
    // process's report job completed between the two reads and was re-armed as "lost").
    const current = await deps.db.study.findUnique({ where: { id: study.id }, select: { state: true, revision: true } });
    if (!current || current.state !== study.state || current.revision !== study.revision) continue;
    if (jobState === 'failed') {
      const reason = `${stage} job gave up after ${job!.attemptsMade} attempt(s): ${job!.failedReason ?? 'unknown error'}`;
      const item: StuckStudy = { ...base, problem: 'job-failed', detail: reason };
      if (opts.fix) item.action = (await failStudy(deps.db, { studyId: study.id, stage, reason, lastError: job!.failedReason ?? null, actor: deps.actor, revision: study.revision })) ? 'study-failed' : 'none';
      found.push(item);
      continue;
    }
    const item: StuckStudy = { ...base, problem: 'job-lost', detail: `job ${intent.jobId ?? '(none)'} is ${jobState} in BullMQ while the study is ${study.state}` };
    if (opts.fix) item.action = (await rearmIntent(deps.db, intent, `re-armed: job ${intent.jobId ?? '(none)'} was ${jobState}`)) ? 'intent-rearmed' : 'none';
    found.push(item);
  }
  found.push(...(await findStuckDelivering(deps, opts, now)));
  if (opts.quietPeriodMs !== undefined) found.push(...(await findLongReceiving(deps, { ...opts, quietPeriodMs: opts.quietPeriodMs }, now)));
  if (opts.fix && found.length > 0) {
    deps.logger.warn({ repaired: found.map((f) => ({ studyInstanceUid: f.studyInstanceUid, state: f.state, problem: f.problem, action: f.action })) }, 'reconciler repaired stuck studies');
  }
  return found;
}

/** Runs {@link reconcileStudies} with `fix` at start-up and every `intervalMs` (default 30 s). */
export function startReconciler(deps: ReconcileDeps, opts: { intervalMs?: number; minAgeMs?: number } = {}) {
  return startPeriodic('reconciler', deps.logger, opts.intervalMs ?? 30_000, () =>
    reconcileStudies(deps, { fix: true, ...(opts.minAgeMs !== undefined ? { minAgeMs: opts.minAgeMs } : {}) }),
  );
}
