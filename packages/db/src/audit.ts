import type { Db, Tx } from './client.js';
import type { Prisma } from './generated/prisma/client.js';

export interface AuditInput {
  entityType: 'study' | 'series' | 'instance' | 'association' | 'inference' | 'report' | 'delivery' | 'destination' | 'model' | 'user' | 'system';
  entityId: string;
  action: string;
  actor: string;
  studyInstanceUid?: string | null;
  /** Never PHI: UIDs, hashes, counts, durations, states, reasons. */
  details?: Prisma.InputJsonValue;
}

/**
 * Append one AuditEvent. Pass the transaction client of the state change it records so both
 * commit or neither does (invariant 4). The table rejects UPDATE/DELETE by trigger.
 */
export async function appendAudit(db: Db | Tx, event: AuditInput): Promise<void> {
  await db.auditEvent.create({
    data: {
      entityType: event.entityType,
      entityId: event.entityId,
      action: event.action,
      actor: event.actor,
      studyInstanceUid: event.studyInstanceUid ?? null,
      details: event.details ?? {},
    },
  });
}

/** The audit trail of a study, oldest first (for the CLI, dashboard and tests). */
export async function listStudyAudit(db: Db, studyInstanceUid: string) {
  return db.auditEvent.findMany({ where: { studyInstanceUid }, orderBy: { id: 'asc' } });
}
