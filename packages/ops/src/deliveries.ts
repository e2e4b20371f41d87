import { replayDeliveries, type Db, type DeliveryState, type ReplayResult, type ReplaySelection } from '@ldh/db';

export const DELIVERY_STATES = ['pending', 'sending', 'delivered', 'failed', 'dead'] as const satisfies readonly DeliveryState[];

export interface ListDeliveriesFilter {
  state?: DeliveryState;
  destination?: string;
  limit?: number;
}

export interface DeliveryListItem {
  id: string;
  state: DeliveryState;
  destination: string;
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
    where: { ...(filter.state ? { state: filter.state } : {}), ...(filter.destination ? { destination: { name: filter.destination } } : {}) },
    include: { destination: true, report: { include: { study: { select: { studyInstanceUid: true, state: true } } } } },
    orderBy: { createdAt: 'desc' },
    take: filter.limit ?? 100,
  });
  return rows.map((d) => ({
    id: d.id,
    state: d.state,
    destination: d.destination.name,
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
