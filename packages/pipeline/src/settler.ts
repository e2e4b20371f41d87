import { findStudiesToSettle, markStudySettled } from '@ldh/db';
import type { PipelineDeps } from './deps.js';

/**
 * Study assembly: a study is complete once no instance arrived for `quietPeriodMs`. The clock
 * lives in Postgres (Study.lastInstanceAt), so a restart loses no pending study. The state moves
 * to `settled` first, then the route job is enqueued (the job checks the state, so the order
 * matters); a crash between the two is repaired by {@link requeueSettledStudies} at start-up.
 */
export async function settleDueStudies(deps: Pick<PipelineDeps, 'db' | 'queues' | 'logger' | 'actor'>, quietPeriodMs: number, now = new Date()): Promise<number> {
  const due = await findStudiesToSettle(deps.db, quietPeriodMs, now);
  let settled = 0;
  for (const s of due) {
    if (await markStudySettled(deps.db, s, quietPeriodMs, deps.actor, now)) {
      await deps.queues.route.add(
        { studyId: s.studyId, studyInstanceUid: s.studyInstanceUid, revision: s.revision },
        { jobId: `route-${s.studyId}-${s.revision}`, ...(s.priority > 0 ? { priority: s.priority } : {}) },
      );
      settled++;
      deps.logger.info({ studyInstanceUid: s.studyInstanceUid, revision: s.revision }, 'study settled');
    }
  }
  return settled;
}

/**
 * Re-enqueue studies left `settled` (e.g. the process died between the state change and the
 * enqueue). The route job ignores anything no longer settled, so a duplicate is harmless; the
 * jobId carries a start-up stamp because an id BullMQ still remembers would be ignored.
 */
export async function requeueSettledStudies(deps: Pick<PipelineDeps, 'db' | 'queues' | 'logger'>, stamp = Date.now().toString(36)): Promise<number> {
  const stuck = await deps.db.study.findMany({ where: { state: 'settled' }, select: { id: true, studyInstanceUid: true, revision: true, priority: true } });
  for (const s of stuck) {
    await deps.queues.route.add(
      { studyId: s.id, studyInstanceUid: s.studyInstanceUid, revision: s.revision },
      { jobId: `route-${s.id}-${s.revision}-${stamp}`, ...(s.priority > 0 ? { priority: s.priority } : {}) },
    );
  }
  if (stuck.length > 0) deps.logger.info({ count: stuck.length }, 're-enqueued settled studies');
  return stuck.length;
}

/** Polls {@link settleDueStudies} until stopped; errors are logged and retried on the next tick. */
export function startSettler(deps: Pick<PipelineDeps, 'db' | 'queues' | 'logger' | 'actor'>, opts: { quietPeriodMs: number; intervalMs?: number }) {
  const interval = opts.intervalMs ?? Math.min(1_000, Math.max(100, Math.floor(opts.quietPeriodMs / 4)));
  let running: Promise<unknown> = requeueSettledStudies(deps).catch((err: unknown) => deps.logger.error({ err }, 'requeue of settled studies failed'));
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    running = settleDueStudies(deps, opts.quietPeriodMs).catch((err: unknown) => deps.logger.error({ err }, 'settler tick failed'));
  }, interval);
  return {
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
