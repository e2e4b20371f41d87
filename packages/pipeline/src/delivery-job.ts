import { performance } from 'node:perf_hooks';
import { getDelivery, recordDeliveryAttempt, transitionStudy } from '@ldh/db';
import { storeFiles } from '@ldh/dicom';
import type { DeliveryPayload, Job } from '@ldh/queue';
import type { PipelineDeps } from './deps.js';

export interface DeliveryDeps extends PipelineDeps {
  callingAeTitle: string;
  timeoutMs?: number;
}

/**
 * Send a report (SR, then KOS) to one destination over one association. A busy or absent PACS
 * throws so BullMQ retries with backoff; after the last attempt the outbox row goes `dead` and
 * waits for a replay (invariant 6: nothing is lost, only delayed).
 */
export async function runDeliveryJob(payload: DeliveryPayload, deps: DeliveryDeps, job?: Pick<Job, 'attemptsMade' | 'opts'>): Promise<{ delivered: boolean }> {
  const d = await getDelivery(deps.db, payload.deliveryId);
  if (d.state === 'delivered') return { delivered: true };
  const attempt = (job?.attemptsMade ?? 0) + 1;
  const finalAttempt = attempt >= (job?.opts.attempts ?? 1);
  const files = [d.report.srStorageKey, ...(d.report.kosStorageKey ? [d.report.kosStorageKey] : [])].map((k) => deps.store.pathOf(k));
  const t0 = performance.now();
  try {
    const results = await storeFiles(
      { host: d.destination.host, port: d.destination.port, callingAeTitle: deps.callingAeTitle, calledAeTitle: d.destination.aeTitle, timeoutMs: deps.timeoutMs ?? 30_000 },
      files,
    );
    const bad = results.filter((r) => !r.ok);
    if (bad.length > 0) throw new Error(`${d.destination.aeTitle} answered ${bad.map((b) => `0x${b.status.toString(16).padStart(4, '0')}`).join(', ')}`);
  } catch (err) {
    const message = (err as Error).message;
    await recordDeliveryAttempt(deps.db, {
      deliveryId: d.id,
      studyInstanceUid: payload.studyInstanceUid,
      actor: deps.actor,
      outcome: finalAttempt ? 'dead' : 'failed',
      error: message,
      attempt,
      durationMs: Math.round(performance.now() - t0),
    });
    deps.logger.warn({ deliveryId: d.id, destination: d.destination.name, attempt, finalAttempt, err: message }, 'delivery failed');
    throw err;
  }
  await recordDeliveryAttempt(deps.db, { deliveryId: d.id, studyInstanceUid: payload.studyInstanceUid, actor: deps.actor, outcome: 'delivered', attempt, durationMs: Math.round(performance.now() - t0) });
  const pending = await deps.db.delivery.count({ where: { reportId: d.reportId, state: { not: 'delivered' } } });
  if (pending === 0) {
    const study = await deps.db.study.findUniqueOrThrow({ where: { id: d.report.studyId }, select: { state: true } });
    if (study.state === 'delivering') {
      await transitionStudy(deps.db, { studyId: d.report.studyId, from: ['delivering'], to: 'done', actor: deps.actor, details: { reportId: d.reportId } });
    }
  }
  return { delivered: true };
}
