import { z } from 'zod';
import type { JobsOptions } from 'bullmq';

/**
 * Job contracts: one definition per queue (name, payload schema, default options) that both the
 * producer and the consumer import, so a payload can never drift between them.
 */
export interface JobContract<S extends z.ZodType> {
  queue: string;
  schema: S;
  defaults: JobsOptions;
}

const uid = z.string().regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/).max(64);
const id = z.uuid();

/** Bounded attempts with exponential backoff; completed jobs trimmed, failed ones kept for replay. */
const common: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { count: 1_000, age: 7 * 24 * 3600 },
  removeOnFail: { count: 10_000 },
};

export const studyRouteJob = {
  queue: 'study-route',
  schema: z.object({ studyId: id, studyInstanceUid: uid, revision: z.number().int().min(0) }),
  defaults: { ...common, attempts: 3 },
} satisfies JobContract<z.ZodType>;

export const inferenceJob = {
  queue: 'inference',
  schema: z.object({ studyId: id, studyInstanceUid: uid, revision: z.number().int().min(0) }),
  // Inference is CPU-bound and deterministic: few retries; a retry only helps after a crash.
  defaults: { ...common, attempts: 3, backoff: { type: 'exponential', delay: 5_000 } },
} satisfies JobContract<z.ZodType>;

export const reportJob = {
  queue: 'report',
  schema: z.object({ inferenceRunId: id, studyInstanceUid: uid }),
  defaults: common,
} satisfies JobContract<z.ZodType>;

export const deliveryJob = {
  queue: 'delivery',
  schema: z.object({ deliveryId: id, studyInstanceUid: uid }),
  // A PACS outage can last: ~8 attempts over about 8.5 minutes, then dead letter + replay.
  defaults: { ...common, attempts: 8, backoff: { type: 'exponential', delay: 2_000 } },
} satisfies JobContract<z.ZodType>;

export type StudyRoutePayload = z.infer<typeof studyRouteJob.schema>;
export type InferencePayload = z.infer<typeof inferenceJob.schema>;
export type ReportPayload = z.infer<typeof reportJob.schema>;
export type DeliveryPayload = z.infer<typeof deliveryJob.schema>;

export const allContracts = [studyRouteJob, inferenceJob, reportJob, deliveryJob] as const;

/** BullMQ priority: 1 is highest. STAT studies jump the routine queue. */
export const priorities = { stat: 1, urgent: 5, routine: 10 } as const;

/** Study.priority values (higher = more urgent, as the schema says). */
export const studyPriorities = { routine: 0, stat: 10 } as const;

/**
 * Map Study.priority (higher = more urgent) to BullMQ's priority (1 = highest). Every job gets
 * one: BullMQ runs jobs without a priority before all prioritized ones, so "routine" must be a
 * number too, or routine work would overtake STAT.
 */
export function bullmqPriority(studyPriority: number): number {
  return studyPriority >= studyPriorities.stat ? priorities.stat : studyPriority > 0 ? priorities.urgent : priorities.routine;
}
