export type { PipelineDeps, PipelineQueues } from './deps.js';
export { settleDueStudies, startSettler, requeueSettledStudies, type SettleOptions, type EarlySettleMemo } from './settler.js';
export { runRouteJob } from './route-job.js';
export { runInferenceJob, inferenceIdempotencyKey, type InferenceDeps, type InferenceOutcome } from './inference-job.js';
export { runReportJob, storeBytes, type ReportDeps, type WriterIdentity } from './report-job.js';
export { runDeliveryJob, type DeliveryDeps } from './delivery-job.js';
export { createPipelineQueues, closePipelineQueues } from './queues.js';
