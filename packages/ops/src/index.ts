/**
 * The operator service API over Postgres: what `ldh deliveries ...` / `ldh studies ...` do, and
 * what the dashboard reuses. Reads return plain JSON-ready rows (no PHI: UIDs, names of
 * destinations, states, reasons); every action is audited with the operator.
 */
export { listDeliveries, replay, discardDeliveries, DELIVERY_STATES, DELIVERY_KINDS, type DeliveryListItem, type ListDeliveriesFilter, type DiscardResult } from './deliveries.js';
export { listStudySummaries, studyFiles, type StudyListItem, type ListStudiesFilter } from './studies.js';
export { studyDetail, buildTimeline, type StudyDetail, type TimelineEntry, type InferenceRunDetail, type ReportDetail, type DeliveryDetail } from './study-detail.js';
export { retryStudy, RetryRefusedError, StudyNotFoundError, type RetryResult, type RetryStage } from './retry.js';
export { overview, destinationHealth, listModels, listAudit, changeMarker, ACTIVE_STATES, type Overview, type StageDuration, type DestinationHealth, type ModelInfo, type AuditListItem } from './overview.js';
export { addUser, listUsers, disableUser, authenticate, sessionUser, hashPassword, UserError, USER_ROLES, USER_NAME_PATTERN, MIN_PASSWORD_LENGTH, type UserRole, type UserRow } from './users.js';
