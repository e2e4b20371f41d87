export {
  studyRouteJob,
  inferenceJob,
  reportJob,
  deliveryJob,
  allContracts,
  priorities,
  studyPriorities,
  bullmqPriority,
  type JobContract,
  type StudyRoutePayload,
  type InferencePayload,
  type ReportPayload,
  type DeliveryPayload,
} from './contracts.js';
export { createRedis, closeWorkers, closeWithin, deletePrefixKeys, pingRedis, ContractQueue, createContractWorker, isFinalAttempt, LIVE_JOB_STATES, type QueueContext } from './factory.js';
export { UnrecoverableError, InvalidPayloadError } from './errors.js';
export { DelayedError } from 'bullmq';
export type { Job, Worker, Queue } from 'bullmq';
