/**
 * The operator service API over Postgres: what `ldh deliveries ...` / `ldh studies list` do, and
 * what the dashboard reuses. Reads return plain JSON-ready rows (no PHI: UIDs, names of
 * destinations, states, reasons); every action is audited with the operator.
 */
export { listDeliveries, replay, DELIVERY_STATES, type DeliveryListItem, type ListDeliveriesFilter } from './deliveries.js';
export { listStudySummaries, type StudyListItem, type ListStudiesFilter } from './studies.js';
