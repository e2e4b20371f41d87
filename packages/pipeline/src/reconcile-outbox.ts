import { failStudy, settleStudyDeliveries, StateConflictError, type Db } from '@ldh/db';
import type { PipelineDeps } from './deps.js';
import type { ReconcileOptions, StuckStudy } from './reconciler.js';

type Deps = Pick<PipelineDeps, 'db' | 'actor'>;

/** A receiving study quiet for this many quiet periods without settling is reported (the settler is not running). */
export const RECEIVING_STUCK_FACTOR = 10;

/**
 * `delivering` studies the outbox no longer drives: the latest report has no pending, failed or
 * sending delivery to an enabled destination (e.g. the one left was to a destination removed
 * from the configuration), so no send will ever settle the study. With `fix`, settle it as the
 * outbox does (`settleStudyDeliveries`: delivery_failed when one is dead, done when all are
 * delivered). A delivering study without any report cannot proceed: with `fix` it is failed.
 */
export async function findStuckDelivering(deps: Deps, opts: ReconcileOptions, now: Date): Promise<StuckStudy[]> {
  const studies = await deps.db.study.findMany({
    where: { state: 'delivering', updatedAt: { lte: new Date(now.getTime() - (opts.minAgeMs ?? 5_000)) } },
    orderBy: { updatedAt: 'asc' },
    take: opts.limit ?? 1_000,
    select: {
      id: true,
      studyInstanceUid: true,
      state: true,
      revision: true,
      reports: { orderBy: { version: 'desc' }, take: 1, select: { id: true, version: true, deliveries: { select: { state: true, destination: { select: { name: true, enabled: true } } } } } },
    },
  });
  const found: StuckStudy[] = [];
  for (const study of studies) {
    const base = { studyId: study.id, studyInstanceUid: study.studyInstanceUid, state: study.state, revision: study.revision, stage: 'delivery' as const, intentId: null };
    const report = study.reports[0];
    if (!report) {
      const reason = 'study is delivering but has no report to deliver';
      const item: StuckStudy = { ...base, problem: 'cannot-proceed', detail: reason };
      if (opts.fix) item.action = (await failStudy(deps.db, { studyId: study.id, stage: 'delivery', reason, actor: deps.actor, revision: study.revision })) ? 'study-failed' : 'none';
      found.push(item);
      continue;
    }
    const live = report.deliveries.filter((d) => d.destination.enabled);
    if (live.some((d) => d.state === 'pending' || d.state === 'failed' || d.state === 'sending')) continue; // the outbox is on it
    const count = (state: string) => live.filter((d) => d.state === state).length;
    const parked = report.deliveries.filter((d) => !d.destination.enabled && d.state !== 'delivered').map((d) => d.destination.name);
    const detail =
      `no delivery of report v${report.version} left to send (${count('delivered')} delivered, ${count('dead')} dead` +
      `${parked.length > 0 ? `; not sent to disabled ${[...new Set(parked)].join(', ')}` : ''}) but the study is still delivering`;
    const item: StuckStudy = { ...base, problem: 'deliveries-finished', detail };
    if (opts.fix) item.action = await settle(deps.db, study.id, report.id, deps.actor);
    found.push(item);
  }
  return found;
}

/** Settle as the outbox does; 'none' when the study moved meanwhile (e.g. the scheduler settled it first). */
async function settle(db: Db, studyId: string, reportId: string, actor: string): Promise<'study-settled' | 'none'> {
  try {
    return await db.$transaction(async (tx) => {
      await settleStudyDeliveries(tx, reportId, actor);
      const after = await tx.study.findUniqueOrThrow({ where: { id: studyId }, select: { state: true } });
      return after.state === 'delivering' ? 'none' : 'study-settled';
    });
  } catch (err) {
    if (err instanceof StateConflictError) return 'none';
    throw err;
  }
}

/**
 * `receiving` studies quiet for more than {@link RECEIVING_STUCK_FACTOR} quiet periods: settling
 * them is the settler's job (a study quiet for one period is simply due); this long after, the
 * settler is not running. Reported only, never repaired here.
 */
export async function findLongReceiving(deps: Deps, opts: ReconcileOptions & { quietPeriodMs: number }, now: Date): Promise<StuckStudy[]> {
  const limitMs = opts.quietPeriodMs * RECEIVING_STUCK_FACTOR;
  const studies = await deps.db.study.findMany({
    where: { state: 'receiving', lastInstanceAt: { lte: new Date(now.getTime() - limitMs) } },
    orderBy: { lastInstanceAt: 'asc' },
    take: opts.limit ?? 1_000,
    select: { id: true, studyInstanceUid: true, state: true, revision: true, lastInstanceAt: true },
  });
  return studies.map((s) => ({
    studyId: s.id,
    studyInstanceUid: s.studyInstanceUid,
    state: s.state,
    revision: s.revision,
    stage: 'settle' as const,
    intentId: null,
    problem: 'not-settling' as const,
    detail: `quiet for ${Math.round((now.getTime() - s.lastInstanceAt.getTime()) / 1000)} s, more than ${RECEIVING_STUCK_FACTOR}× the quiet period (${opts.quietPeriodMs} ms), and not settled: is the settler (ldh serve / scp) running?`,
    ...(opts.fix ? { action: 'none' as const } : {}),
  }));
}
