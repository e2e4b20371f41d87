import { replayDeliveries, type Db, type DeliveryKind, type DeliveryState, type ReplayResult, type ReplaySelection } from '@ldh/db';

export const DELIVERY_STATES = ['pending', 'sending', 'delivered', 'failed', 'dead', 'not_applicable'] as const satisfies readonly DeliveryState[];
export const DELIVERY_KINDS = ['dicom', 'sc', 'hl7', 'fhir'] as const satisfies readonly DeliveryKind[];

export interface ListDeliveriesFilter {
  state?: DeliveryState;
  destination?: string;
  kind?: DeliveryKind;
  limit?: number;
}

export interface DeliveryListItem {
  id: string;
  state: DeliveryState;
  /** dicom (SR/KOS), sc, hl7 or fhir. */
  kind: DeliveryKind;
  destination: string;
  /** dicom, hl7 or fhir. */
  protocol: string;
  destinationEnabled: boolean;
  studyInstanceUid: string;
  studyState: string;
  reportVersion: number;
  srSopInstanceUid: string;
  attempts: number;
  lastError: string | null;
  lastStatus: number | null;
  nextAttemptAt: string | null;
  firstAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

/** Deliveries, newest first, optionally of one state and/or destination. */
export async function listDeliveries(db: Db, filter: ListDeliveriesFilter = {}): Promise<DeliveryListItem[]> {
  const rows = await db.delivery.findMany({
    where: { ...(filter.state ? { state: filter.state } : {}), ...(filter.kind ? { kind: filter.kind } : {}), ...(filter.destination ? { destination: { name: filter.destination } } : {}) },
    include: { destination: true, report: { include: { study: { select: { studyInstanceUid: true, state: true } } } } },
    orderBy: { createdAt: 'desc' },
    take: filter.limit ?? 100,
  });
  return rows.map((d) => ({
    id: d.id,
    state: d.state,
    kind: d.kind,
    destination: d.destination.name,
    protocol: d.destination.protocol,
    destinationEnabled: d.destination.enabled,
    studyInstanceUid: d.report.study.studyInstanceUid,
    studyState: d.report.study.state,
    reportVersion: d.report.version,
    srSopInstanceUid: d.report.srSopInstanceUid,
    attempts: d.attempts,
    lastError: d.lastError,
    lastStatus: d.lastStatus,
    nextAttemptAt: d.state === 'pending' || d.state === 'failed' ? d.nextAttemptAt.toISOString() : null,
    firstAttemptAt: d.firstAttemptAt?.toISOString() ?? null,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
  }));
}

/** Replay dead deliveries (by id, or every dead one, optionally of one destination); audited with `operator`. */
export async function replay(db: Db, selection: ReplaySelection, operator: string): Promise<ReplayResult> {
  if (!operator.trim()) throw new Error('an operator name is required to replay deliveries');
  return replayDeliveries(db, selection, operator);
}
