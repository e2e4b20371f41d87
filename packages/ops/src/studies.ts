import type { Db, Prisma, StudyState } from '@ldh/db';

export interface ListStudiesFilter {
  state?: StudyState;
  /** Last instance received at or after / before. */
  from?: Date;
  to?: Date;
  /** Exact Study.priority (0 routine, higher more urgent). */
  priority?: number;
  /** An accession number (exact) or a StudyInstanceUID (exact or prefix). */
  search?: string;
  limit?: number;
}

export interface StudyListItem {
  studyInstanceUid: string;
  accessionNumber: string | null;
  patientIdHash: string | null;
  state: StudyState;
  stateReason: string | null;
  priority: number;
  instanceCount: number;
  revision: number;
  /** Deliveries of the latest report by state, e.g. { delivered: 1, dead: 1 }. */
  deliveries: Record<string, number>;
  lastInstanceAt: string;
  updatedAt: string;
}

/** Studies, most recently changed first, filtered by state, date, priority and accession/UID, with their deliveries summed up. */
export async function listStudySummaries(db: Db, filter: ListStudiesFilter = {}): Promise<StudyListItem[]> {
  const search = filter.search?.trim();
  const where: Prisma.StudyWhereInput = {
    ...(filter.state ? { state: filter.state } : {}),
    ...(filter.priority !== undefined ? { priority: filter.priority } : {}),
    ...(filter.from || filter.to ? { lastInstanceAt: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } } : {}),
    ...(search ? { OR: [{ accessionNumber: search }, { studyInstanceUid: { startsWith: search } }] } : {}),
  };
  const rows = await db.study.findMany({
    where,
    orderBy: { updatedAt: 'desc' },
    take: filter.limit ?? 100,
    include: { reports: { orderBy: { version: 'desc' }, take: 1, include: { deliveries: { select: { state: true } } } } },
  });
  return rows.map((s) => {
    const deliveries: Record<string, number> = {};
    for (const d of s.reports[0]?.deliveries ?? []) deliveries[d.state] = (deliveries[d.state] ?? 0) + 1;
    return {
      studyInstanceUid: s.studyInstanceUid,
      accessionNumber: s.accessionNumber,
      patientIdHash: s.patientIdHash,
      state: s.state,
      stateReason: s.stateReason,
      priority: s.priority,
      instanceCount: s.instanceCount,
      revision: s.revision,
      deliveries,
      lastInstanceAt: s.lastInstanceAt.toISOString(),
      updatedAt: s.updatedAt.toISOString(),
    };
  });
}

/** Storage keys of one current instance of the study (for an admin's on-demand patient header) and of a report's SR/KOS. */
export async function studyFiles(db: Db, studyInstanceUid: string): Promise<{ instanceKey: string | null; reports: Array<{ version: number; srSopInstanceUid: string; srStorageKey: string; kosSopInstanceUid: string | null; kosStorageKey: string | null }> } | null> {
  const s = await db.study.findUnique({ where: { studyInstanceUid }, select: { id: true, instances: { where: { isCurrent: true, fileMissingAt: null }, take: 1, select: { storageKey: true } }, reports: { orderBy: { version: 'asc' }, select: { version: true, srSopInstanceUid: true, srStorageKey: true, kosSopInstanceUid: true, kosStorageKey: true } } } });
  if (!s) return null;
  return { instanceKey: s.instances[0]?.storageKey ?? null, reports: s.reports };
}
