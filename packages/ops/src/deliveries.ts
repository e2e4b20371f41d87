import { appendAudit, replayDeliveries, type Db, type DeliveryKind, type DeliveryState, type ReplayResult, type ReplaySelection } from '@ldh/db';

export const DELIVERY_STATES = ['pending', 'sending', 'delivered', 'failed', 'dead', 'not_applicable'] as const satisfies readonly DeliveryState[];
export const DELIVERY_KINDS = ['dicom', 'sc', 'hl7', 'fhir'] as const satisfies readonly DeliveryKind[];

export interface ListDeliveriesFilter {
  state?: DeliveryState;
  destination?: string;
  kind?: DeliveryKind;
  /** Dead deliveries an admin discarded are left out unless asked for. */
  includeDiscarded?: boolean;
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
  discardedAt: string | null;
  discardedBy: string | null;
  discardReason: string | null;
  createdAt: string;
}

/** Deliveries, newest first, optionally of one state and/or destination. */
export async function listDeliveries(db: Db, filter: ListDeliveriesFilter = {}): Promise<DeliveryListItem[]> {
  const rows = await db.delivery.findMany({
    where: { ...(filter.state ? { state: filter.state } : {}), ...(filter.kind ? { kind: filter.kind } : {}), ...(filter.destination ? { destination: { name: filter.destination } } : {}), ...(filter.includeDiscarded ? {} : { discardedAt: null }) },
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
    discardedAt: d.discardedAt?.toISOString() ?? null,
    discardedBy: d.discardedBy,
    discardReason: d.discardReason,
    createdAt: d.createdAt.toISOString(),
  }));
}

/** Replay dead deliveries (by id, or every dead one, optionally of one destination); audited with `operator`. */
export async function replay(db: Db, selection: ReplaySelection, operator: string): Promise<ReplayResult> {
  if (!operator.trim()) throw new Error('an operator name is required to replay deliveries');
  return replayDeliveries(db, selection, operator);
}

export interface DiscardResult {
  discarded: Array<{ id: string; destination: string; studyInstanceUid: string }>;
  skipped: Array<{ id: string; reason: string }>;
}

/**
 * Discard dead deliveries an admin gives up on: they stay `dead` (history kept) but are marked
 * with who, when and why, leave the dead-letter list and the alerts; each is audited
 * (`delivery.discarded`). Only dead, not yet discarded rows are discarded; the rest are skipped with why.
 */
export async function discardDeliveries(db: Db, ids: string[], reason: string, operator: string): Promise<DiscardResult> {
  if (!operator.trim()) throw new Error('an operator name is required to discard deliveries');
  if (!reason.trim()) throw new Error('a reason is required to discard a delivery');
  const result: DiscardResult = { discarded: [], skipped: [] };
  for (const id of ids) {
    await db.$transaction(async (tx) => {
      const d = await tx.delivery.findUnique({ where: { id }, include: { destination: { select: { name: true } }, report: { select: { study: { select: { studyInstanceUid: true } } } } } }).catch(() => null);
      if (!d) return void result.skipped.push({ id, reason: 'no such delivery' });
      if (d.state !== 'dead') return void result.skipped.push({ id, reason: `it is ${d.state}, not dead` });
      if (d.discardedAt) return void result.skipped.push({ id, reason: 'already discarded' });
      const { count } = await tx.delivery.updateMany({ where: { id, state: 'dead', discardedAt: null }, data: { discardedAt: new Date(), discardedBy: operator, discardReason: reason.slice(0, 500) } });
      if (count !== 1) return void result.skipped.push({ id, reason: 'it changed while being discarded' });
      const studyInstanceUid = d.report.study.studyInstanceUid;
      await appendAudit(tx, { entityType: 'delivery', entityId: id, studyInstanceUid, action: 'delivery.discarded', actor: operator, details: { destination: d.destination.name, reason: reason.slice(0, 500), attempts: d.attempts, lastError: d.lastError } });
      result.discarded.push({ id, destination: d.destination.name, studyInstanceUid });
    });
  }
  return result;
}
