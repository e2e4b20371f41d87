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
  | { kind: 'started'; runId: string; takeover: boolean }
  | { kind: 'already-done'; runId: string; state: 'succeeded' }
  | { kind: 'busy'; runId: string; owner: string | null; leaseExpiresAt: Date };

/** Default lease of a running inference run; a worker renews it every third of this. */
export const DEFAULT_RUN_LEASE_MS = 60_000;

/**
 * Claim the inference for an idempotency key (study UID + hash of selected inputs + model
 * version). Only a `succeeded` run counts as done (invariant 3). A `running` run is leased to
 * its owner: while the lease holds, the claim is `busy`; once it expired (the owner died — kill
 * -9, OOM, power) the run is taken over and re-run, never mistaken for a result. A `failed` or
 * `queued` run is re-run too. The row is locked for the decision, so two claimers never both start.
 */
export async function beginInferenceRun(
  db: Db,
  args: { studyId: string; studyInstanceUid: string; modelVersionId: string; idempotencyKey: string; inputHash: string; actor: string; owner?: string; leaseMs?: number; now?: Date },
): Promise<BeginRunResult> {
  const owner = args.owner ?? args.actor;
  const leaseMs = args.leaseMs ?? DEFAULT_RUN_LEASE_MS;
  return db.$transaction(async (tx) => {
    const now = args.now ?? new Date();
    const lease = { owner, heartbeatAt: now, leaseExpiresAt: new Date(now.getTime() + leaseMs) };
    await tx.$queryRaw`SELECT id FROM "InferenceRun" WHERE "idempotencyKey" = ${args.idempotencyKey} FOR UPDATE`;
    const existing = await tx.inferenceRun.findUnique({ where: { idempotencyKey: args.idempotencyKey } });
    if (existing?.state === 'succeeded') return { kind: 'already-done', runId: existing.id, state: 'succeeded' };
    if (existing?.state === 'running' && existing.leaseExpiresAt && existing.leaseExpiresAt > now) {
      return { kind: 'busy', runId: existing.id, owner: existing.owner, leaseExpiresAt: existing.leaseExpiresAt };
    }
    const takeover = existing?.state === 'running';
    const run = existing
      ? await tx.inferenceRun.update({ where: { id: existing.id }, data: { state: 'running', startedAt: now, finishedAt: null, error: null, attempts: { increment: 1 }, ...lease } })
      : await tx.inferenceRun.create({
          data: {
            studyId: args.studyId,
            modelVersionId: args.modelVersionId,
            idempotencyKey: args.idempotencyKey,
            inputHash: args.inputHash,
            state: 'running',
            startedAt: now,
            attempts: 1,
            ...lease,
          },
        });
    await appendAudit(tx, {
      entityType: 'inference',
      entityId: run.id,
      studyInstanceUid: args.studyInstanceUid,
      action: takeover ? 'inference.taken-over' : 'inference.started',
      actor: args.actor,
      details: {
        idempotencyKey: args.idempotencyKey,
        inputHash: args.inputHash,
        retry: Boolean(existing),
        attempt: run.attempts,
        ...(takeover ? { previousOwner: existing.owner, leaseExpiredAt: existing.leaseExpiresAt?.toISOString() ?? null } : {}),
      },
    });
    return { kind: 'started', runId: run.id, takeover };
  });
}

/**
 * Renew the lease of a running run held by `owner`. False when the run is no longer ours
 * (taken over after the lease expired, or finished): the caller should stop working on it.
 */
export async function heartbeatInferenceRun(db: Db, args: { runId: string; owner: string; leaseMs?: number; now?: Date }): Promise<boolean> {
  const now = args.now ?? new Date();
  const { count } = await db.inferenceRun.updateMany({
    where: { id: args.runId, owner: args.owner, state: 'running' },
    data: { heartbeatAt: now, leaseExpiresAt: new Date(now.getTime() + (args.leaseMs ?? DEFAULT_RUN_LEASE_MS)) },
  });
  return count === 1;
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
    /** Per-disc-level results; absent when no level could be scored. */
    perLevel?: Prisma.InputJsonValue;
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
        ...(args.perLevel !== undefined ? { perLevel: args.perLevel } : {}),
        timings: args.timings,
        provider: args.provider,
        finishedAt: new Date(),
        leaseExpiresAt: null,
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
    await tx.inferenceRun.update({ where: { id: args.runId }, data: { state: 'failed', error: args.error, finishedAt: new Date(), leaseExpiresAt: null } });
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
