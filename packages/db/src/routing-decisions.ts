import type { RouteDecision, SeriesVerdict } from '@ldh/dicom';
import type { Db, Tx } from './client.js';
import type { Prisma } from './generated/prisma/client.js';

/** What the router decided for one study revision: 'failed' when a header could not be read. */
export type RoutingVerdict = 'route' | 'skip' | 'failed';

/** A series whose header could not be read or decoded (it took no part in the decision). */
export type HeaderFailure = {
  seriesInstanceUid: string;
  seriesNumber: number | null;
  error: string;
};

/** The stored decision: the router's output plus the header failures the job met. */
export interface StoredRoutingDecision {
  verdict: RoutingVerdict;
  reason: string | null;
  roles: Partial<Record<'t1_sag' | 't2_sag' | 't2_ax', string>>;
  anatomy: RouteDecision['anatomy'] | null;
  series: SeriesVerdict[];
  headerFailures: HeaderFailure[];
}

/**
 * Store the routing decision of a study revision (one row per revision; a retried job
 * overwrites its own row). Call inside the transaction of the state change it explains.
 */
export async function recordRoutingDecision(db: Db | Tx, args: { studyId: string; revision: number; decision: StoredRoutingDecision }): Promise<void> {
  const { verdict, reason } = args.decision;
  const json = args.decision as unknown as Prisma.InputJsonValue;
  await db.routingDecision.upsert({
    where: { studyId_revision: { studyId: args.studyId, revision: args.revision } },
    create: { studyId: args.studyId, revision: args.revision, verdict, reason, decision: json },
    update: { verdict, reason, decision: json, createdAt: new Date() },
  });
}

/**
 * A study with its series and its latest routing decision, by StudyInstanceUID: what
 * `ldh studies show` prints and a dashboard shows. Null when the study is unknown.
 */
export async function getStudyWithRouting(db: Db, studyInstanceUid: string) {
  const study = await db.study.findUnique({
    where: { studyInstanceUid },
    select: {
      id: true,
      studyInstanceUid: true,
      state: true,
      stateReason: true,
      revision: true,
      priority: true,
      instanceCount: true,
      firstInstanceAt: true,
      lastInstanceAt: true,
      settledAt: true,
      series: { orderBy: { seriesNumber: 'asc' }, select: { seriesInstanceUid: true, seriesNumber: true, seriesDescription: true, modality: true, role: true, instanceCount: true } },
      routingDecisions: { orderBy: { revision: 'desc' }, take: 1, select: { revision: true, verdict: true, reason: true, decision: true, createdAt: true } },
    },
  });
  if (!study) return null;
  const { routingDecisions, ...rest } = study;
  const latest = routingDecisions[0];
  return {
    ...rest,
    routing: latest
      ? { revision: latest.revision, verdict: latest.verdict as RoutingVerdict, reason: latest.reason, createdAt: latest.createdAt, decision: latest.decision as unknown as StoredRoutingDecision }
      : null,
  };
}
export type StudyWithRouting = NonNullable<Awaited<ReturnType<typeof getStudyWithRouting>>>;
