export { createDb, type Db, type Tx } from './client.js';
export { migrateDeploy, repoRoot } from './migrate.js';
export { probeDatabase, countStudiesByState } from './health.js';
export { appendAudit, listStudyAudit, type AuditInput } from './audit.js';
export { StateConflictError, NotFoundError } from './errors.js';
export {
  transitionStudy,
  findStudiesToSettle,
  markStudySettled,
  findEarlySettleCandidates,
  loadStudySeriesRecords,
  loadStudyForProcessing,
  setSeriesRoles,
  listStudies,
  failStudy,
  STAGE_STATES,
  type JobStage,
  type SettledStudy,
  type EarlySettleCandidate,
  type StudyForProcessing,
} from './studies.js';
export { recordReceivedInstance, recordReceivedInstances, recordReceivedInstancesPg, type ReceivedInstanceRecord, type IngestOutcome, type PgQueryable } from './ingest.js';
export { storedFrames, StoredFramesError } from './ingest-frames.js';
export { upsertModelVersion, beginInferenceRun, heartbeatInferenceRun, completeInferenceRun, failInferenceRun, getInferenceRun, DEFAULT_RUN_LEASE_MS, type BeginRunResult } from './inference-runs.js';
export {
  addJobIntent,
  jobIntentId,
  intentJobId,
  listPendingIntents,
  markIntentDispatched,
  recordIntentDispatchError,
  rearmIntent,
  getJobIntent,
  type IntentStage,
  type JobIntentInput,
  type JobIntentRow,
} from './job-intents.js';
export { createReportWithOutbox, getDelivery, upsertDestination } from './reports.js';
export {
  claimDueDeliveries,
  loadDeliveryForSend,
  recordDeliveryOutcome,
  settleStudyDeliveries,
  replayDeliveries,
  syncDestinations,
  deliveryKindsFor,
  type ClaimedDelivery,
  type DeliveryOutcome,
  type ReplaySelection,
  type ReplayResult,
  type DestinationConfig,
} from './deliveries.js';
export type { StudyState, RunState, DeliveryState, DeliveryKind, DestinationProtocol, Prisma } from './generated/prisma/client.js';
export { createScratchDatabase, pingDatabase, ensureDatabase } from './testing.js';
export { createIngestSink, type PostgresIngestSink, type IngestSinkOptions, type AssociationSummaryRecord } from './ingest-sink.js';
export { referencedSha256s } from './store-recovery.js';
export { reconcileInstanceStore, MISSING_FILE_REASON, type ReconcilableStore, type ReconcileOptions, type StoreReconciliation } from './store-reconcile.js';
export {
  recordRoutingDecision,
  getStudyWithRouting,
  type StoredRoutingDecision,
  type RoutingVerdict,
  type HeaderFailure,
  type StudyWithRouting,
} from './routing-decisions.js';
export { checkDatabase, createDatabaseOf, dropDatabaseOf, databaseName, committedMigrations, type DatabaseReadiness } from './readiness.js';
