import type { Db, StudyState } from '@ldh/db';

export interface ListStudiesFilter {
  state?: StudyState;
  limit?: number;
}

export interface StudyListItem {
  studyInstanceUid: string;
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

/** Studies, most recently changed first, optionally of one state, with their deliveries summed up. */
export async function listStudySummaries(db: Db, filter: ListStudiesFilter = {}): Promise<StudyListItem[]> {
  const rows = await db.study.findMany({
    where: filter.state ? { state: filter.state } : {},
    orderBy: { updatedAt: 'desc' },
    take: filter.limit ?? 100,
    include: { reports: { orderBy: { version: 'desc' }, take: 1, include: { deliveries: { select: { state: true } } } } },
  });
  return rows.map((s) => {
    const deliveries: Record<string, number> = {};
    for (const d of s.reports[0]?.deliveries ?? []) deliveries[d.state] = (deliveries[d.state] ?? 0) + 1;
    return {
      studyInstanceUid: s.studyInstanceUid,
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
