import type { Db } from './client.js';
import { appendAudit } from './audit.js';
import type { Prisma } from './generated/prisma/client.js';

/** Register (or find) the model version rows point at; the card is stored for provenance. */
export async function upsertModelVersion(
  db: Db,
  m: { name: string; version: string; sha256: string; placeholder: boolean; card: Prisma.InputJsonValue },
) {
  return db.modelVersion.upsert({
    where: { name_version_sha256: { name: m.name, version: m.version, sha256: m.sha256 } },
    create: m,
    update: {},
  });
}

export type BeginRunResult =
  | { kind: 'started'; runId: string }
  | { kind: 'already-done'; runId: string; state: string };

/**
 * Claim the inference for an idempotency key (study UID + hash of selected inputs + model
 * version). A second claim for the same key returns the existing run instead of working again
 * (invariant 3); a failed run may be retried.
 */
export async function beginInferenceRun(
  db: Db,
  args: { studyId: string; studyInstanceUid: string; modelVersionId: string; idempotencyKey: string; inputHash: string; actor: string },
): Promise<BeginRunResult> {
  return db.$transaction(async (tx) => {
    const existing = await tx.inferenceRun.findUnique({ where: { idempotencyKey: args.idempotencyKey } });
    if (existing && existing.state !== 'failed') return { kind: 'already-done', runId: existing.id, state: existing.state };
    const run = existing
      ? await tx.inferenceRun.update({ where: { id: existing.id }, data: { state: 'running', startedAt: new Date(), error: null } })
      : await tx.inferenceRun.create({
          data: {
            studyId: args.studyId,
            modelVersionId: args.modelVersionId,
            idempotencyKey: args.idempotencyKey,
            inputHash: args.inputHash,
            state: 'running',
            startedAt: new Date(),
          },
        });
    await appendAudit(tx, {
      entityType: 'inference',
      entityId: run.id,
      studyInstanceUid: args.studyInstanceUid,
      action: 'inference.started',
      actor: args.actor,
      details: { idempotencyKey: args.idempotencyKey, inputHash: args.inputHash, retry: Boolean(existing) },
    });
    return { kind: 'started', runId: run.id };
  });
}

export async function completeInferenceRun(
  db: Db,
  args: {
    runId: string;
    studyInstanceUid: string;
    actor: string;
    studyProbability: number;
    decision: string;
    threshold: number;
    perImage: Prisma.InputJsonValue;
    timings: Prisma.InputJsonValue;
    provider: string;
  },
): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.inferenceRun.update({
      where: { id: args.runId },
      data: {
        state: 'succeeded',
        studyProbability: args.studyProbability,
        decision: args.decision,
        threshold: args.threshold,
        perImage: args.perImage,
        timings: args.timings,
        provider: args.provider,
        finishedAt: new Date(),
      },
    });
    await appendAudit(tx, {
      entityType: 'inference',
      entityId: args.runId,
      studyInstanceUid: args.studyInstanceUid,
      action: 'inference.succeeded',
      actor: args.actor,
      details: { studyProbability: args.studyProbability, decision: args.decision, threshold: args.threshold, provider: args.provider, timings: args.timings },
    });
  });
}

export async function failInferenceRun(db: Db, args: { runId: string; studyInstanceUid: string; actor: string; error: string }): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.inferenceRun.update({ where: { id: args.runId }, data: { state: 'failed', error: args.error, finishedAt: new Date() } });
    await appendAudit(tx, {
      entityType: 'inference',
      entityId: args.runId,
      studyInstanceUid: args.studyInstanceUid,
      action: 'inference.failed',
      actor: args.actor,
      details: { error: args.error },
    });
  });
}

export async function getInferenceRun(db: Db, runId: string) {
  return db.inferenceRun.findUniqueOrThrow({ where: { id: runId }, include: { modelVersion: true, study: true, report: true } });
}
