/**
 * The operator service API over Postgres: what `ldh deliveries ...` / `ldh studies ...` do, and
 * what the dashboard reuses. Reads return plain JSON-ready rows (no PHI: UIDs, names of
 * destinations, states, reasons); every action is audited with the operator.
 */
export { listDeliveries, replay, DELIVERY_STATES, DELIVERY_KINDS, type DeliveryListItem, type ListDeliveriesFilter } from './deliveries.js';
export { listStudySummaries, type StudyListItem, type ListStudiesFilter } from './studies.js';
export { studyDetail, buildTimeline, type StudyDetail, type TimelineEntry, type InferenceRunDetail, type ReportDetail, type DeliveryDetail } from './study-detail.js';
export { retryStudy, RetryRefusedError, StudyNotFoundError, type RetryResult, type RetryStage } from './retry.js';
