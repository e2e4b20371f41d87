export type { PipelineDeps, PipelineQueues } from './deps.js';
export { settleDueStudies, startSettler, requeueSettledStudies, type SettleOptions, type EarlySettleMemo } from './settler.js';
export { runRouteJob } from './route-job.js';
export { runInferenceJob, inferenceIdempotencyKey, type InferenceDeps, type InferenceOutcome } from './inference-job.js';
export { runReportJob, storeBytes, type ReportDeps, type WriterIdentity } from './report-job.js';
export { startDeliveryScheduler, sendClaimedDelivery, type DeliveryScheduler, type DeliverySchedulerOptions } from './delivery-scheduler.js';
export { backoffSchedule, backoffDelayMs, backoffCeilingMs, nextRetry, DEFAULT_BACKOFF, type BackoffConfig, type BackoffStep } from './delivery-backoff.js';
export { createPipelineQueues, closePipelineQueues } from './queues.js';
