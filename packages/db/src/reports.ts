import type { Db } from './client.js';
import { appendAudit } from './audit.js';
import { deliveryKindsFor } from './deliveries.js';

/**
 * Persist a written report and its outbox rows (one Delivery per enabled destination and kind it
 * receives, see deliveryKindsFor) in one
 * transaction: once this commits, a PACS outage cannot lose the report (invariant 6).
 */
export async function createReportWithOutbox(
  db: Db,
  args: {
    studyId: string;
    studyInstanceUid: string;
    inferenceRunId: string;
    srSopInstanceUid: string;
    srSeriesInstanceUid: string;
    srStorageKey: string;
    srSha256: string;
    kosSopInstanceUid?: string | null;
    kosStorageKey?: string | null;
    scSopInstanceUid?: string | null;
    scStorageKey?: string | null;
    actor: string;
  },
) {
  return db.$transaction(async (tx) => {
    const existing = await tx.report.findUnique({ where: { inferenceRunId: args.inferenceRunId }, include: { deliveries: true } });
    if (existing) return existing;
    const version = (await tx.report.count({ where: { studyId: args.studyId } })) + 1;
    const destinations = await tx.destination.findMany({ where: { enabled: true } });
    const report = await tx.report.create({
      data: {
        studyId: args.studyId,
        inferenceRunId: args.inferenceRunId,
        srSopInstanceUid: args.srSopInstanceUid,
        srSeriesInstanceUid: args.srSeriesInstanceUid,
        srStorageKey: args.srStorageKey,
        srSha256: args.srSha256,
        kosSopInstanceUid: args.kosSopInstanceUid ?? null,
        kosStorageKey: args.kosStorageKey ?? null,
        scSopInstanceUid: args.scSopInstanceUid ?? null,
        scStorageKey: args.scStorageKey ?? null,
        version,
        deliveries: { create: destinations.flatMap((d) => deliveryKindsFor(d).map((kind) => ({ destinationId: d.id, kind }))) },
      },
      include: { deliveries: true },
    });
    await appendAudit(tx, {
      entityType: 'report',
      entityId: report.id,
      studyInstanceUid: args.studyInstanceUid,
      action: 'report.written',
      actor: args.actor,
      details: {
        srSopInstanceUid: args.srSopInstanceUid,
        kosSopInstanceUid: args.kosSopInstanceUid ?? null,
        scSopInstanceUid: args.scSopInstanceUid ?? null,
        srSha256: args.srSha256,
        version,
        destinations: destinations.map((d) => d.name),
      },
    });
    return report;
  });
}

export async function getDelivery(db: Db, deliveryId: string) {
  return db.delivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { destination: true, report: { include: { study: true } } } });
}

/** Create or update a destination PACS by name (CLI / demo configuration). */
export async function upsertDestination(db: Db, d: { name: string; aeTitle: string; host: string; port: number; tls?: boolean; enabled?: boolean; sends?: string[] }) {
  const data = { aeTitle: d.aeTitle, host: d.host, port: d.port, tls: d.tls ?? false, enabled: d.enabled ?? true, ...(d.sends ? { sends: d.sends } : {}) };
  return db.destination.upsert({ where: { name: d.name }, create: { name: d.name, ...data }, update: data });
}
