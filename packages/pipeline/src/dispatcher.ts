import { intentJobId, listPendingIntents, markIntentDispatched, recordIntentDispatchError, type JobIntentRow } from '@ldh/db';
import type { ContractQueue } from '@ldh/queue';
import type { PipelineDeps, PipelineQueues } from './deps.js';

type DispatchDeps = Pick<PipelineDeps, 'db' | 'queues' | 'logger'>;

/** The producer of an intent's stage. */
export function queueOfStage(queues: PipelineQueues, stage: string): ContractQueue<never> {
  switch (stage) {
    case 'route':
      return queues.route as unknown as ContractQueue<never>;
    case 'inference':
      return queues.inference as unknown as ContractQueue<never>;
    case 'report':
      return queues.report as unknown as ContractQueue<never>;
    default:
      throw new Error(`job intent of unknown stage "${stage}"`);
  }
}

/**
 * Move one pending intent to BullMQ and mark it dispatched. Idempotent: the BullMQ job id is
 * derived from the intent (id + attempt), so a second dispatch of the same intent adds nothing.
 * A job BullMQ still remembers under that id as completed or failed belongs to an earlier
 * dispatch of a re-armed intent (e.g. Redis restored from an old snapshot): it is removed first,
 * since BullMQ ignores an add whose id it still holds.
 */
export async function dispatchIntent(deps: DispatchDeps, intent: JobIntentRow): Promise<string> {
  const q = queueOfStage(deps.queues, intent.stage);
  const jobId = intentJobId(intent);
  const existing = await q.queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (intent.attempt > 0 && (state === 'completed' || state === 'failed')) {
      await existing.remove();
      await q.add(intent.payload as never, { jobId, ...(intent.priority > 0 ? { priority: intent.priority } : {}) });
    }
  } else {
    await q.add(intent.payload as never, { jobId, ...(intent.priority > 0 ? { priority: intent.priority } : {}) });
  }
  await markIntentDispatched(deps.db, intent, jobId);
  return jobId;
}

/**
 * Dispatch right after the commit that wrote the intent (low latency). A failure (Redis down) is
 * logged and left to the periodic dispatcher: the intent stays pending in Postgres.
 */
export async function dispatchIntentNow(deps: DispatchDeps, intent: JobIntentRow): Promise<boolean> {
  try {
    await dispatchIntent(deps, intent);
    return true;
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    await recordIntentDispatchError(deps.db, intent, message).catch(() => undefined);
    deps.logger.warn({ intentId: intent.id, err: message }, 'job intent not dispatched; it stays pending');
    return false;
  }
}

/**
 * Dispatch every pending intent, oldest first. Stops at the first failure (Redis is likely down;
 * the rest would fail the same way) and returns how many were dispatched.
 */
export async function dispatchPendingIntents(deps: DispatchDeps, limit = 200): Promise<{ dispatched: number; pending: number; error?: string }> {
  const pending = await listPendingIntents(deps.db, limit);
  let dispatched = 0;
  for (const intent of pending) {
    try {
      await dispatchIntent(deps, intent);
      dispatched++;
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      await recordIntentDispatchError(deps.db, intent, message).catch(() => undefined);
      deps.logger.warn({ intentId: intent.id, pending: pending.length - dispatched, err: message }, 'dispatch of job intents failed; retrying on the next tick');
      return { dispatched, pending: pending.length - dispatched, error: message };
    }
  }
  return { dispatched, pending: 0 };
}

/** A periodic task with no overlapping runs; errors are logged and the next tick retries. */
export function startPeriodic(name: string, logger: PipelineDeps['logger'], intervalMs: number, tick: () => Promise<unknown>, runNow = true) {
  let running: Promise<unknown> | null = null;
  let stopped = false;
  const run = () => {
    if (stopped || running) return;
    running = tick()
      .catch((err: unknown) => logger.error({ err: (err as Error).message ?? String(err) }, `${name} failed`))
      .finally(() => {
        running = null;
      });
  };
  if (runNow) run();
  const timer = setInterval(run, intervalMs);
  timer.unref?.();
  return {
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Polls {@link dispatchPendingIntents} every `intervalMs` (default 1 s) until stopped. */
export function startDispatcher(deps: DispatchDeps, opts: { intervalMs?: number } = {}) {
  return startPeriodic('job intent dispatcher', deps.logger, opts.intervalMs ?? 1_000, () => dispatchPendingIntents(deps));
}
