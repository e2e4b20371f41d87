export {
  studyRouteJob,
  inferenceJob,
  reportJob,
  deliveryJob,
  allContracts,
  priorities,
  type JobContract,
  type StudyRoutePayload,
  type InferencePayload,
  type ReportPayload,
  type DeliveryPayload,
} from './contracts.js';
export { createRedis, pingRedis, ContractQueue, createContractWorker, isFinalAttempt, type QueueContext } from './factory.js';
export { UnrecoverableError, InvalidPayloadError } from './errors.js';
export type { Job, Worker, Queue } from 'bullmq';
