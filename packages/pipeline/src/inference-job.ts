import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  addJobIntent,
  beginInferenceRun,
  DEFAULT_RUN_LEASE_MS,
  failStudy,
  heartbeatInferenceRun,
  completeInferenceRun,
  failInferenceRun,
  loadStudyForProcessing,
  transitionStudy,
  upsertModelVersion,
  appendAudit,
  storedFrames,
  StoredFramesError,
  type Prisma,
  type StudyForProcessing,
  type Tx,
} from '@ldh/db';
import { classifyStudy, levelRule, ModelInputError, preprocessImage, readDicomImage, scoreLevels, selectFrames, type LoadedModel, type PlacedImageScore, type SeriesRole, type StudyImage } from '@ldh/model';
import { bullmqPriority, DelayedError, UnrecoverableError, type InferencePayload, type Job } from '@ldh/queue';
import type { FrameFacts } from '@ldh/dicom';
import type { PipelineDeps } from './deps.js';
import { dispatchIntentNow } from './dispatcher.js';

export interface InferenceDeps extends PipelineDeps {
  model: LoadedModel;
  /** Lease of a running run (default 60 s), renewed every third of it while the job works. */
  leaseMs?: number;
  /** Called after each successful model run of a study (the worker feeds `ldh_inference_duration_seconds`). */
  onInference?: (run: { provider: string; seconds: number; images: number }) => void;
}

/** The BullMQ job being processed, so a job that finds its run leased can wait without spending an attempt. */
export interface JobHandle {
  job: Pick<Job, 'moveToDelayed'>;
  token?: string | undefined;
}

/**
 * The idempotency key of invariant 3: the same study, the same selected instance bytes and the
 * same model never produce a second result.
 */
export function inferenceIdempotencyKey(studyInstanceUid: string, selectedSha256: string[], model: { name: string; version: string; sha256: string }): { key: string; inputHash: string } {
  const inputHash = createHash('sha256').update([...selectedSha256].sort().join('\n')).digest('hex');
  const key = createHash('sha256').update(`${studyInstanceUid}|${inputHash}|${model.name}@${model.version}#${model.sha256}`).digest('hex');
  return { key, inputHash };
}

export type InferenceOutcome =
  | { outcome: 'succeeded'; runId: string; probability: number }
  | { outcome: 'unchanged'; runId: string; next: 'reporting' | 'done' }
  | { outcome: 'stale' };

/** Another worker holds a live lease on the run: retry once the lease may have expired. */
export class RunLeasedError extends Error {
  constructor(
    readonly runId: string,
    readonly leaseExpiresAt: Date,
  ) {
    super(`inference run ${runId} is leased until ${leaseExpiresAt.toISOString()}`);
    this.name = 'RunLeasedError';
  }
}

/** Move the study on to reporting for `runId`, with the report job's intent, in `tx`. */
async function toReporting(tx: Tx, deps: InferenceDeps, study: { id: string; studyInstanceUid: string; revision: number; priority: number }, from: Array<'routed' | 'inferring'>, runId: string, details: Prisma.InputJsonValue, reason?: string) {
  await transitionStudy(deps.db, { studyId: study.id, from, to: 'reporting', actor: deps.actor, details, ...(reason ? { reason } : {}) }, tx);
  return addJobIntent(tx, {
    studyId: study.id,
    stage: 'report',
    revision: study.revision,
    payload: { inferenceRunId: runId, studyInstanceUid: study.studyInstanceUid },
    priority: bullmqPriority(study.priority),
  });
}

/**
 * Classify a routed study: select slices per the model's input contract, decode and preprocess
 * them, run the model, persist the run. Bad pixels are an UnrecoverableError with the reason
 * (the study goes to `failed`), never a crash or an endless retry.
 */
export async function runInferenceJob(payload: InferencePayload, deps: InferenceDeps, handle?: JobHandle): Promise<InferenceOutcome> {
  const { db, model, logger } = deps;
  const study = await loadStudyForProcessing(db, payload.studyId);
  if (study.revision !== payload.revision || !['routed', 'inferring'].includes(study.state)) {
    logger.info({ studyInstanceUid: study.studyInstanceUid, state: study.state }, 'inference job is stale; ignoring');
    return { outcome: 'stale' };
  }
  const roleSeries = study.series.filter((s): s is typeof s & { role: SeriesRole } => s.role === 't1_sag' || s.role === 't2_sag' || s.role === 't2_ax');
  let chosen: ChosenImage[];
  try {
    chosen = chooseImages(roleSeries, model);
  } catch (err) {
    // A multi-frame without readable frame geometry (or a corrupt frames column): the study
    // cannot be classified as received; fail it with the reason, as for bad pixels below.
    if (!(err instanceof ModelInputError) && !(err instanceof StoredFramesError)) throw err;
    const reason = `cannot select images: ${err.message}`;
    await failStudy(db, { studyId: study.id, stage: 'inference', reason, actor: deps.actor, revision: study.revision });
    throw new UnrecoverableError(reason);
  }

  const modelVersion = await upsertModelVersion(db, {
    name: model.card.name,
    version: model.card.version,
    sha256: model.card.sha256,
    placeholder: model.placeholder,
    card: model.card as unknown as Prisma.InputJsonValue,
  });
  const { key, inputHash } = inferenceIdempotencyKey(study.studyInstanceUid, chosen.map(selectedInputId), model.card);
  const leaseMs = deps.leaseMs ?? DEFAULT_RUN_LEASE_MS;
  const claim = await beginInferenceRun(db, { studyId: study.id, studyInstanceUid: study.studyInstanceUid, modelVersionId: modelVersion.id, idempotencyKey: key, inputHash, actor: deps.actor, owner: deps.actor, leaseMs });
  if (claim.kind === 'busy') {
    // A live lease: another worker is on it (or died less than a lease ago). Wait for the lease
    // to expire without spending an attempt; the next try takes the run over if it is abandoned.
    if (handle?.token) {
      await handle.job.moveToDelayed(claim.leaseExpiresAt.getTime() + 250, handle.token);
      throw new DelayedError();
    }
    throw new RunLeasedError(claim.runId, claim.leaseExpiresAt);
  }
  if (claim.kind === 'already-done') {
    // Same input, same model, a succeeded run (invariant 3): no second inference. The study is
    // `done` only when that run's report exists and was delivered; otherwise it goes on to
    // reporting for that run (the report job reuses an existing report).
    const report = await db.report.findUnique({ where: { inferenceRunId: claim.runId }, include: { deliveries: { select: { state: true } } } });
    const delivered = report !== null && report.deliveries.every((d) => d.state === 'delivered');
    const intent = await db.$transaction(async (tx) => {
      await appendAudit(tx, {
        entityType: 'inference',
        entityId: claim.runId,
        studyInstanceUid: study.studyInstanceUid,
        action: 'inference.unchanged',
        actor: deps.actor,
        details: { idempotencyKey: key, revision: study.revision, existingState: claim.state, reportId: report?.id ?? null, delivered },
      });
      if (delivered) {
        await transitionStudy(db, { studyId: study.id, from: ['routed', 'inferring'], to: 'done', actor: deps.actor, reason: 'selected input unchanged; existing report delivered', details: { reportId: report.id } }, tx);
        return null;
      }
      return toReporting(tx, deps, study, ['routed', 'inferring'], claim.runId, { runId: claim.runId, reused: true }, 'selected input unchanged; reporting the existing run');
    });
    if (intent) await dispatchIntentNow(deps, intent);
    return { outcome: 'unchanged', runId: claim.runId, next: delivered ? 'done' : 'reporting' };
  }
  if (study.state === 'routed') {
    await transitionStudy(db, { studyId: study.id, from: ['routed'], to: 'inferring', actor: deps.actor, details: { runId: claim.runId, images: chosen.length, ...(claim.takeover ? { takeover: true } : {}) } });
  }
  const heartbeat = setInterval(() => {
    heartbeatInferenceRun(db, { runId: claim.runId, owner: deps.actor, leaseMs }).then(
      (held) => {
        if (!held) logger.warn({ studyInstanceUid: study.studyInstanceUid, runId: claim.runId }, 'inference run lease lost');
      },
      (err: unknown) => logger.warn({ runId: claim.runId, err: (err as Error).message }, 'inference run heartbeat failed'),
    );
  }, Math.max(50, Math.floor(leaseMs / 3)));
  try {
    return await classify(deps, study, chosen, claim.runId);
  } finally {
    clearInterval(heartbeat);
  }
}

async function classify(deps: InferenceDeps, study: StudyForProcessing, chosen: ChosenImage[], runId: string): Promise<InferenceOutcome> {
  const { db, model, logger } = deps;
  const claim = { runId };
  const t0 = performance.now();
  let images: StudyImage[];
  // Geometry of each image as decoded (centre needs rows/columns/pixel spacing): per-level scores.
  const geometry: Array<Pick<PlacedImageScore, 'imagePositionPatient' | 'imageOrientationPatient' | 'rows' | 'columns' | 'pixelSpacing'>> = [];
  try {
    images = [];
    for (const inst of chosen) {
      // A multi-frame (Enhanced MR) choice names its frame; readDicomImage takes a 0-based index.
      const bytes = await readFile(deps.store.pathOf(inst.storageKey));
      const img = await readDicomImage(bytes, inst.frame ? { frame: inst.frame.frameNumber - 1 } : {});
      geometry.push({ imagePositionPatient: img.imagePositionPatient, imageOrientationPatient: img.imageOrientationPatient, rows: img.rows, columns: img.columns, pixelSpacing: img.pixelSpacing });
      images.push({
        sopInstanceUid: inst.sopInstanceUid,
        ...(inst.frame ? { frameNumber: inst.frame.frameNumber } : {}),
        seriesInstanceUid: inst.seriesInstanceUid,
        sopClassUid: inst.sopClassUid,
        role: inst.role,
        tensor: await preprocessImage(img, model.card.input, inst.role),
      });
    }
  } catch (err) {
    const reason = `cannot prepare images: ${(err as Error).message}`;
    await failInferenceRun(db, { runId: claim.runId, studyInstanceUid: study.studyInstanceUid, actor: deps.actor, error: reason });
    await failStudy(db, { studyId: study.id, stage: 'inference', reason, actor: deps.actor, revision: study.revision });
    throw new UnrecoverableError(reason);
  }
  const preprocessMs = performance.now() - t0;
  let result: Awaited<ReturnType<typeof classifyStudy>>;
  try {
    result = await classifyStudy(images, model);
  } catch (err) {
    if (!(err instanceof ModelInputError)) throw err; // runtime trouble: let BullMQ retry
    const reason = `model input rejected: ${err.message}`;
    await failInferenceRun(db, { runId: claim.runId, studyInstanceUid: study.studyInstanceUid, actor: deps.actor, error: reason });
    await failStudy(db, { studyId: study.id, stage: 'inference', reason, actor: deps.actor, revision: study.revision });
    throw new UnrecoverableError(reason);
  }
  // Axial images grouped by disc level from geometry (@ldh/dicom); sagittal images cross every level.
  const perLevel = scoreLevels(
    result.perImage.flatMap((p, i) => (p.role === 't2_ax' ? [{ ...geometry[i], sopInstanceUid: p.sopInstanceUid, frameNumber: p.frameNumber, probability: p.probability }] : [])),
    levelRule(model.card),
  );
  const timings = { preprocessMs: round(preprocessMs), inferenceMs: round(result.timings.totalMs), perImageMs: round(result.timings.perImageMs), images: images.length };
  deps.onInference?.({ provider: model.provider, seconds: result.timings.totalMs / 1000, images: images.length });
  await completeInferenceRun(db, {
    runId: claim.runId,
    studyInstanceUid: study.studyInstanceUid,
    actor: deps.actor,
    studyProbability: result.study.probability,
    decision: result.study.decision,
    threshold: result.study.threshold,
    perImage: result.perImage.map((p) => ({ ...p })) as unknown as Prisma.InputJsonValue,
    perLevel: perLevel as unknown as Prisma.InputJsonValue,
    timings,
    provider: result.provider,
  });
  const intent = await db.$transaction((tx) =>
    toReporting(tx, deps, study, ['inferring'], claim.runId, { runId: claim.runId, probability: result.study.probability, decision: result.study.decision, placeholder: result.placeholder }),
  );
  await dispatchIntentNow(deps, intent);
  logger.info({ studyInstanceUid: study.studyInstanceUid, probability: result.study.probability, decision: result.study.decision, levels: perLevel.length, ...timings }, 'study classified');
  return { outcome: 'succeeded', runId: claim.runId, probability: result.study.probability };
}

type RoleSeries = StudyForProcessing['series'][number] & { role: SeriesRole };
type InstanceRow = RoleSeries['instances'][number];

/** An instance row chosen for classification, with the frame when it is one frame of a multi-frame. */
export type ChosenImage = InstanceRow & { role: SeriesRole; seriesInstanceUid: string; frame?: FrameFacts };

/**
 * The images to classify, per the model's input contract: instances, or frames of multi-frame
 * instances (Enhanced MR) placed by the per-frame geometry recorded at ingest.
 */
export function chooseImages(roleSeries: readonly RoleSeries[], model: Pick<LoadedModel, 'card'>): ChosenImage[] {
  const framesByUid = new Map<string, FrameFacts[] | undefined>();
  const selected = selectFrames(
    roleSeries.map((s) => ({
      role: s.role,
      instances: s.instances.map((i) => {
        const frames = storedFrames(i);
        framesByUid.set(i.sopInstanceUid, frames);
        return {
          sopInstanceUid: i.sopInstanceUid,
          imagePositionPatient: i.imagePositionPatient,
          imageOrientationPatient: i.imageOrientationPatient,
          instanceNumber: i.instanceNumber ?? undefined,
          numberOfFrames: i.numberOfFrames,
          frames,
          frameGeometryError: i.frameGeometryError,
        };
      }),
    })),
    model.card.input,
  );
  const instancesByUid = new Map(roleSeries.flatMap((s) => s.instances.map((i) => [i.sopInstanceUid, { ...i, role: s.role, seriesInstanceUid: s.seriesInstanceUid }] as const)));
  return (Object.values(selected) as Array<Array<{ sopInstanceUid: string; frameNumber?: number }>>).flatMap((picked) =>
    picked.flatMap((c) => {
      const inst = instancesByUid.get(c.sopInstanceUid);
      if (!inst) return [];
      const frame = c.frameNumber !== undefined ? framesByUid.get(c.sopInstanceUid)?.[c.frameNumber - 1] : undefined;
      return [frame ? { ...inst, frame } : inst];
    }),
  );
}

/** The idempotency input of one chosen image: its bytes' sha256, plus `#frame` for a frame of a multi-frame. */
export function selectedInputId(c: Pick<ChosenImage, 'sha256' | 'frame'>): string {
  return c.frame ? `${c.sha256}#${c.frame.frameNumber}` : c.sha256;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
