import { findStudiesToSettle, markStudySettled } from '@ldh/db';
import type { PipelineDeps } from './deps.js';

/**
 * Study assembly: a study is complete once no instance arrived for `quietPeriodMs`. The clock
 * lives in Postgres (Study.lastInstanceAt), so a restart loses no pending study. The route job
 * is enqueued first with a deterministic jobId, then the state moves: a crash between the two
 * re-enqueues the same id, which BullMQ ignores.
 */
export async function settleDueStudies(deps: Pick<PipelineDeps, 'db' | 'queues' | 'logger' | 'actor'>, quietPeriodMs: number, now = new Date()): Promise<number> {
  const due = await findStudiesToSettle(deps.db, quietPeriodMs, now);
  let settled = 0;
  for (const s of due) {
    await deps.queues.route.add(
      { studyId: s.studyId, studyInstanceUid: s.studyInstanceUid, revision: s.revision },
      { jobId: `route-${s.studyId}-${s.revision}`, ...(s.priority > 0 ? { priority: s.priority } : {}) },
    );
    if (await markStudySettled(deps.db, s, quietPeriodMs, deps.actor, now)) {
      settled++;
      deps.logger.info({ studyInstanceUid: s.studyInstanceUid, revision: s.revision }, 'study settled');
    }
  }
  return settled;
}

/** Polls {@link settleDueStudies} until stopped; errors are logged and retried on the next tick. */
export function startSettler(deps: Pick<PipelineDeps, 'db' | 'queues' | 'logger' | 'actor'>, opts: { quietPeriodMs: number; intervalMs?: number }) {
  const interval = opts.intervalMs ?? Math.min(1_000, Math.max(100, Math.floor(opts.quietPeriodMs / 4)));
  let running: Promise<unknown> = Promise.resolve();
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
