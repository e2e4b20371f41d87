import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  beginInferenceRun,
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
} from '@ldh/db';
import { classifyStudy, ModelInputError, preprocessImage, readDicomImage, selectFrames, type LoadedModel, type SeriesRole, type StudyImage } from '@ldh/model';
import { UnrecoverableError, type InferencePayload } from '@ldh/queue';
import type { FrameFacts } from '@ldh/dicom';
import type { PipelineDeps } from './deps.js';

export interface InferenceDeps extends PipelineDeps {
  model: LoadedModel;
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

export type InferenceOutcome = { outcome: 'succeeded'; runId: string; probability: number } | { outcome: 'unchanged'; runId: string } | { outcome: 'stale' };

/**
 * Classify a routed study: select slices per the model's input contract, decode and preprocess
 * them, run the model, persist the run. Bad pixels are an UnrecoverableError with the reason
 * (the study goes to `failed`), never a crash or an endless retry.
 */
export async function runInferenceJob(payload: InferencePayload, deps: InferenceDeps): Promise<InferenceOutcome> {
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
    await transitionStudy(db, { studyId: study.id, from: ['routed', 'inferring'], to: 'failed', actor: deps.actor, reason });
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
  const claim = await beginInferenceRun(db, { studyId: study.id, studyInstanceUid: study.studyInstanceUid, modelVersionId: modelVersion.id, idempotencyKey: key, inputHash, actor: deps.actor });
  if (claim.kind === 'already-done') {
    // Same input, same model: the existing report stands (invariant 3). Close this revision.
    await db.$transaction(async (tx) => {
      await appendAudit(tx, {
        entityType: 'inference',
        entityId: claim.runId,
        studyInstanceUid: study.studyInstanceUid,
        action: 'inference.unchanged',
        actor: deps.actor,
        details: { idempotencyKey: key, revision: study.revision, existingState: claim.state },
      });
      await transitionStudy(db, { studyId: study.id, from: ['routed', 'inferring'], to: 'done', actor: deps.actor, reason: 'selected input unchanged; existing report stands' }, tx);
    });
    return { outcome: 'unchanged', runId: claim.runId };
  }
  if (study.state === 'routed') {
    await transitionStudy(db, { studyId: study.id, from: ['routed'], to: 'inferring', actor: deps.actor, details: { runId: claim.runId, images: chosen.length } });
  }

  const t0 = performance.now();
  let images: StudyImage[];
  try {
    images = [];
    for (const inst of chosen) {
      // A multi-frame (Enhanced MR) choice names its frame; readDicomImage takes a 0-based index.
      const bytes = await readFile(deps.store.pathOf(inst.storageKey));
      const img = await readDicomImage(bytes, inst.frame ? { frame: inst.frame.frameNumber - 1 } : {});
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
    await transitionStudy(db, { studyId: study.id, from: ['inferring'], to: 'failed', actor: deps.actor, reason });
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
    await transitionStudy(db, { studyId: study.id, from: ['inferring'], to: 'failed', actor: deps.actor, reason });
    throw new UnrecoverableError(reason);
  }
  const timings = { preprocessMs: round(preprocessMs), inferenceMs: round(result.timings.totalMs), perImageMs: round(result.timings.perImageMs), images: images.length };
  await completeInferenceRun(db, {
    runId: claim.runId,
    studyInstanceUid: study.studyInstanceUid,
    actor: deps.actor,
    studyProbability: result.study.probability,
    decision: result.study.decision,
    threshold: result.study.threshold,
    perImage: result.perImage.map((p) => ({ ...p })) as unknown as Prisma.InputJsonValue,
    timings,
    provider: result.provider,
  });
  await transitionStudy(db, { studyId: study.id, from: ['inferring'], to: 'reporting', actor: deps.actor, details: { runId: claim.runId, probability: result.study.probability, decision: result.study.decision, placeholder: result.placeholder } });
  await deps.queues.report.add({ inferenceRunId: claim.runId, studyInstanceUid: study.studyInstanceUid }, { jobId: `report-${claim.runId}` });
  logger.info({ studyInstanceUid: study.studyInstanceUid, probability: result.study.probability, decision: result.study.decision, ...timings }, 'study classified');
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
