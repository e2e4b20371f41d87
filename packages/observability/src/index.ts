export {
  createObservability,
  processObservability,
  type Observability,
  type ObservabilityOptions,
  type ReadinessCheck,
  type ReadinessReport,
  type CheckResult,
  type QueueDepthSource,
  type StudiesByStateSource,
} from './observability.js';
export { createLdhMetrics, QUEUE_STATES, type LdhMetrics, type QueueState, type JobOutcome } from './metrics.js';
export { createScpMetrics, type ScpMetrics } from './scp-metrics.js';
export { startHttpServer, type HttpServerOptions, type RunningHttpServer } from './http-server.js';
export { diskSpaceCheck } from './checks.js';
export { startRoleObservability, type RoleObservability } from './role.js';
