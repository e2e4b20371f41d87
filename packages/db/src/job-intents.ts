import type { Db, Tx } from './client.js';
import type { Prisma } from './generated/prisma/client.js';

export type IntentStage = 'route' | 'inference' | 'report';

export interface JobIntentInput {
  studyId: string;
  stage: IntentStage;
  revision: number;
  payload: Prisma.InputJsonValue;
  /** BullMQ priority (1 = highest); 0 = none. */
  priority?: number;
}

/** The deterministic intent id of a study's stage at a revision. */
export function jobIntentId(stage: IntentStage, studyId: string, revision: number): string {
  return `${stage}-${studyId}-${revision}`;
}

/** The BullMQ job id of an intent's attempt: the intent id, then "-a<n>" for each re-creation. */
export function intentJobId(intent: { id: string; attempt: number }): string {
  return intent.attempt === 0 ? intent.id : `${intent.id}-a${intent.attempt}`;
}

/**
 * Record the intent of a study's next job. Call it with the transaction client of the state
 * change that calls for it, so both commit or neither does. Writing an existing intent again
 * keeps it as it is (an intent is created once per stage and revision).
 */
export async function addJobIntent(tx: Db | Tx, input: JobIntentInput) {
  const id = jobIntentId(input.stage, input.studyId, input.revision);
  return tx.jobIntent.upsert({
    where: { id },
    create: { id, studyId: input.studyId, stage: input.stage, revision: input.revision, payload: input.payload, priority: input.priority ?? 0 },
    update: {},
  });
}

export type JobIntentRow = Awaited<ReturnType<typeof addJobIntent>>;

/** Pending intents, oldest first (the dispatcher's work list). */
export async function listPendingIntents(db: Db, limit = 200): Promise<JobIntentRow[]> {
  return db.jobIntent.findMany({ where: { state: 'pending' }, orderBy: { createdAt: 'asc' }, take: limit });
}

/** Mark an intent dispatched under `jobId`, unless it was re-armed meanwhile (attempt changed). */
export async function markIntentDispatched(db: Db, intent: { id: string; attempt: number }, jobId: string): Promise<boolean> {
  const { count } = await db.jobIntent.updateMany({
    where: { id: intent.id, attempt: intent.attempt, state: 'pending' },
    data: { state: 'dispatched', jobId, dispatchedAt: new Date(), lastError: null },
  });
  return count === 1;
}

/** Keep an intent pending, recording why its dispatch failed (e.g. Redis unreachable). */
export async function recordIntentDispatchError(db: Db, intent: { id: string; attempt: number }, error: string): Promise<void> {
  await db.jobIntent.updateMany({ where: { id: intent.id, attempt: intent.attempt, state: 'pending' }, data: { lastError: error.slice(0, 500) } });
}

/**
 * Re-arm an intent whose job was lost (Redis flushed, job removed): pending again under a new
 * attempt number, so the next BullMQ job id is one BullMQ has never seen.
 */
export async function rearmIntent(db: Db | Tx, intent: { id: string; attempt: number }, reason: string) {
  const { count } = await db.jobIntent.updateMany({
    where: { id: intent.id, attempt: intent.attempt },
    data: { state: 'pending', attempt: intent.attempt + 1, jobId: null, dispatchedAt: null, lastError: reason.slice(0, 500) },
  });
  return count === 1;
}

export async function getJobIntent(db: Db | Tx, id: string): Promise<JobIntentRow | null> {
  return db.jobIntent.findUnique({ where: { id } });
}
