import { findEarlySettleCandidates, findStudiesToSettle, getJobIntent, jobIntentId, loadStudySeriesRecords, markStudySettled, type SettledStudy } from '@ldh/db';
import { routeStudy, seriesFactsFromRecords } from '@ldh/dicom';
import type { PipelineDeps } from './deps.js';
import { dispatchIntentNow } from './dispatcher.js';

type SettlerDeps = Pick<PipelineDeps, 'db' | 'queues' | 'logger' | 'actor'>;

/** When a study counts as complete. */
export interface SettleOptions {
  /** Long quiet period: a study with no new instance for this long settles whatever it holds. */
  quietPeriodMs: number;
  /**
   * Short quiet period: a study settles this early once its content holds all three roles
   * (completeness by content). Unset, or not below `quietPeriodMs`: timer only.
   */
  earlySettleMs?: number;
}

/**
 * Studies found incomplete at a given last-instance time (study:revision → lastInstanceAt ms):
 * their content cannot change until an instance arrives, so they are not checked again.
 */
export type EarlySettleMemo = Map<string, number>;

async function settleOne(deps: SettlerDeps, s: SettledStudy, periodMs: number, now: Date, trigger: Parameters<typeof markStudySettled>[5]): Promise<boolean> {
  // The state change and the route job's intent commit together; the enqueue follows, and if
  // Redis is down the intent stays pending for the dispatcher.
  if (!(await markStudySettled(deps.db, s, periodMs, deps.actor, now, trigger))) return false;
  const intent = await getJobIntent(deps.db, jobIntentId('route', s.studyId, s.revision));
  if (intent) await dispatchIntentNow(deps, intent);
  deps.logger.info({ studyInstanceUid: s.studyInstanceUid, revision: s.revision, settledBy: trigger?.by ?? 'quiet-period' }, 'study settled');
  return true;
}

/**
 * Study assembly: a study is complete once no instance arrived for the long quiet period, or
 * — completeness by content — once the short one passed and its series, read from the database
 * (names, SOP classes and geometry; no file is opened), already hold T1 sag, T2 sag and T2 ax.
 * Late instances reopen a study as before. The clock lives in Postgres (Study.lastInstanceAt),
 * so a restart loses no pending study. The state moves to `settled` together with the route job's
 * intent (one transaction); the job is then dispatched to BullMQ. A crash or a Redis outage
 * between the two leaves a pending intent, which the dispatcher sends later.
 */
export async function settleDueStudies(deps: SettlerDeps, periods: number | SettleOptions, now = new Date(), memo?: EarlySettleMemo): Promise<number> {
  const { quietPeriodMs, earlySettleMs } = typeof periods === 'number' ? { quietPeriodMs: periods, earlySettleMs: undefined } : periods;
  let settled = 0;
  for (const s of await findStudiesToSettle(deps.db, quietPeriodMs, now)) {
    if (await settleOne(deps, s, quietPeriodMs, now, { by: 'quiet-period' })) settled++;
  }
  if (earlySettleMs === undefined || earlySettleMs >= quietPeriodMs) return settled;
  const candidates = await findEarlySettleCandidates(deps.db, earlySettleMs, quietPeriodMs, now);
  const seen = new Set<string>();
  for (const c of candidates) {
    const key = `${c.studyId}:${c.revision}`;
    seen.add(key);
    if (memo?.get(key) === c.lastInstanceAt.getTime()) continue;
    const decision = routeStudy((await loadStudySeriesRecords(deps.db, c.studyId)).map(seriesFactsFromRecords));
    if (decision.kind !== 'route') {
      memo?.set(key, c.lastInstanceAt.getTime());
      continue;
    }
    if (await settleOne(deps, c, earlySettleMs, now, { by: 'content', roles: decision.roles })) settled++;
  }
  // Forget studies that left the early window (settled, reopened or past the long period).
  for (const key of memo?.keys() ?? []) if (!seen.has(key)) memo!.delete(key);
  return settled;
}

/** Polls {@link settleDueStudies} until stopped; errors are logged and retried on the next tick. */
export function startSettler(deps: SettlerDeps, opts: SettleOptions & { intervalMs?: number }) {
  const shortest = Math.min(opts.quietPeriodMs, opts.earlySettleMs ?? Infinity);
  const interval = opts.intervalMs ?? Math.min(1_000, Math.max(100, Math.floor(shortest / 4)));
  const memo: EarlySettleMemo = new Map();
  const periods: SettleOptions = { quietPeriodMs: opts.quietPeriodMs, ...(opts.earlySettleMs !== undefined ? { earlySettleMs: opts.earlySettleMs } : {}) };
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    running = settleDueStudies(deps, periods, new Date(), memo).catch((err: unknown) => deps.logger.error({ err }, 'settler tick failed'));
  }, interval);
  return {
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
