/**
 * `retryStudy` and `studyDetail` of @ldh/ops against real Postgres and Redis, with the real
 * pipeline jobs (router, placeholder model, SR writer): a study failed at route by an unreadable
 * header is routed once the file is fixed; an inference that failed in a real BullMQ worker is
 * re-run under a new job id (BullMQ keeps the failed one); a delivery_failed study goes back to
 * delivering; a report retry writes the report; a study that is not failed is refused. The timeline comes from the audit trail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ldh/config';
import { claimDueDeliveries, createDb, failStudy, createScratchDatabase, listStudyAudit, recordDeliveryOutcome, recordReceivedInstance, upsertDestination, type Db } from '@ldh/db';
import { identifyStoredInstance } from '@ldh/dicom';
import { loadModel, type LoadedModel } from '@ldh/model';
import { generateStudy } from '@ldh/phantom';
import { createContractWorker, createRedis, inferenceJob } from '@ldh/queue';
import { createInstanceStore, type InstanceStore } from '@ldh/storage';
import {
  closePipelineQueues,
  createPipelineQueues,
  dispatchPendingIntents,
  failStudiesOnFinalFailure,
  runInferenceJob,
  runReportJob,
  runRouteJob,
  settleDueStudies,
  storeBytes,
  type PipelineDeps,
  type PipelineQueues,
} from '@ldh/pipeline';
import { RetryRefusedError, retryStudy, studyDetail, StudyNotFoundError } from './index.js';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const modelCard = path.join(import.meta.dirname, '../../../models/placeholder-v0.json');
const prefix = `ldh-retry-test-${process.pid}-${Date.now()}`;

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let store: InstanceStore;
let queues: PipelineQueues;
let redis: ReturnType<typeof createRedis>;
let model: LoadedModel;
let deps: PipelineDeps;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-retry-'));

/** Ingest a phantom study; returns its UID and the storage path of each instance by role. */
async function ingestStudy(seed: number): Promise<{ uid: string; files: Map<string, string[]> }> {
  const study = generateStudy({ seed, matrix: 64, levels: { 'L4-L5': 'extrusion' } });
  const files = new Map<string, string[]>();
  for (const inst of study.instances) {
    const { storageKey, sha256 } = await storeBytes(store, inst.bytes);
    const id = await identifyStoredInstance(store.pathOf(storageKey));
    await recordReceivedInstance(db, { ...id, sha256, sizeBytes: inst.bytes.byteLength, storageKey, callingAeTitle: 'TEST', receivedAt: new Date(Date.now() - 60_000) });
    files.set((inst.role ?? 'other'), [...(files.get((inst.role ?? 'other')) ?? []), store.pathOf(storageKey)]);
  }
  return { uid: study.studyInstanceUid, files };
}

/** Overwrite files with bytes that are not DICOM; returns a function that puts the originals back. */
async function breakFiles(paths: string[]): Promise<() => Promise<void>> {
  const saved = await Promise.all(paths.map(async (p) => [p, await readFile(p)] as const));
  for (const p of paths) await writeFile(p, Buffer.alloc(2048, 0x41));
  return async () => {
    for (const [p, bytes] of saved) await writeFile(p, bytes);
  };
}

async function runQueued(stage: 'route' | 'report'): Promise<void> {
  for (const job of await queues[stage].queue.getJobs(['waiting', 'prioritized'])) {
    if (stage === 'route') await runRouteJob(job.data as never, deps);
    else await runReportJob(job.data as never, { ...deps, identity: { manufacturer: 'test', softwareVersion: '0' } });
    await job.remove();
  }
}

async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const studyOf = (uid: string) => db.study.findUniqueOrThrow({ where: { studyInstanceUid: uid } });

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
  store = await createInstanceStore({ rootDir: tmp, minFreeBytes: 0 });
  redis = createRedis(redisUrl);
  queues = createPipelineQueues({ connection: redis, prefix });
  model = await loadModel(modelCard);
  deps = { db, store, queues, logger: createLogger('test', { level: 'silent' }), actor: 'test' };
});

afterAll(async () => {
  await model?.dispose();
  if (queues) {
    for (const q of Object.values(queues)) await q.queue.obliterate({ force: true });
    await closePipelineQueues(queues);
  }
  redis?.disconnect();
  await db?.$disconnect();
  await scratch?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('retryStudy', () => {
  it('route: a study failed on an unreadable header is routed by a retry once the file is fixed; the timeline shows every state with its duration', async () => {
    const { uid, files } = await ingestStudy(501);
    const restore = await breakFiles(files.get('t2_ax')!);
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    await runQueued('route');
    const failed = await studyOf(uid);
    expect([failed.state, failed.failedStage]).toEqual(['failed', 'route']);
    expect(failed.lastError).toContain('cannot read header of series');

    await restore();
    const r = await retryStudy(db, uid, 'alice');
    expect(r).toMatchObject({ from: 'failed', stage: 'route', to: 'settled', intent: { id: `route-${failed.id}-0`, attempt: 1, jobId: `route-${failed.id}-0-a1` } });
    const settled = await studyOf(uid);
    expect([settled.state, settled.failedStage, settled.lastError]).toEqual(['settled', null, null]);
    expect(await dispatchPendingIntents(deps)).toMatchObject({ dispatched: 1, pending: 0 });
    expect((await queues.route.queue.getJobs(['waiting', 'prioritized'])).map((j) => j.id)).toEqual([`route-${failed.id}-0-a1`]);
    await runQueued('route');
    expect((await studyOf(uid)).state).toBe('routed');
    const retried = (await listStudyAudit(db, uid)).find((a) => a.action === 'study.retried');
    expect(retried).toMatchObject({ actor: 'alice', details: { from: 'failed', to: 'settled', stage: 'route', operator: 'alice' } });

    const view = (await studyDetail(db, uid))!;
    expect(view.timeline.map((t) => t.state)).toEqual(['receiving', 'settled', 'failed', 'settled', 'routed']);
    expect(view.timeline.map((t) => t.current)).toEqual([false, false, false, false, true]);
    expect(view.timeline[3]).toMatchObject({ action: 'study.retried', actor: 'alice' });
    expect(view.timeline[2]!.reason).toContain('cannot read header of series');
    for (const [i, t] of view.timeline.entries()) {
      expect(t.durationMs).toBeGreaterThanOrEqual(0);
      const next = view.timeline[i + 1];
      if (next) {
        expect(t.leftAt).toBe(next.enteredAt);
        expect(Date.parse(next.enteredAt)).toBeGreaterThanOrEqual(Date.parse(t.enteredAt));
        expect(t.durationMs).toBe(Date.parse(next.enteredAt) - Date.parse(t.enteredAt));
      } else expect(t.leftAt).toBeNull();
    }
    expect(view.routing?.verdict).toBe('route');
    expect(view.failedStage).toBeNull();
  });

  it('inference: a run that failed in a real BullMQ worker is re-run under a new job id; then a dead delivery is retried back to delivering', async () => {
    await upsertDestination(db, { name: 'pacs-a', aeTitle: 'PACSA', host: '127.0.0.1', port: 1 });
    const { uid, files } = await ingestStudy(502);
    await settleDueStudies(deps, 15_000);
    await runQueued('route');
    const study = await studyOf(uid);
    expect(study.state).toBe('routed');
    // Pixels unreadable at inference: the worker fails the run and the study (UnrecoverableError).
    const restore = await breakFiles(files.get('t1_sag')!);
    const ctx = { connection: createRedis(redisUrl, { forWorker: true }), prefix };
    const worker = createContractWorker(inferenceJob, ctx, (payload, job, token) => runInferenceJob(payload, { ...deps, model }, { job, token }));
    failStudiesOnFinalFailure(worker, deps);
    try {
      const firstJobId = `inference-${study.id}-0`;
      await waitFor(async () => (await queues.inference.queue.getJob(firstJobId))?.getState(), (s) => s === 'failed', 'the inference job to fail');
      const failed = await waitFor(() => studyOf(uid), (s) => s.state === 'failed', 'the study to fail');
      expect(failed.failedStage).toBe('inference');
      const run = await db.inferenceRun.findFirstOrThrow({ where: { studyId: study.id } });
      expect([run.state, run.attempts]).toEqual(['failed', 1]);

      await restore();
      const r = await retryStudy(db, uid, 'bob');
      expect(r).toMatchObject({ from: 'failed', stage: 'inference', to: 'routed', intent: { jobId: `${firstJobId}-a1` } });
      await dispatchPendingIntents(deps);
      await waitFor(() => studyOf(uid), (s) => s.state === 'reporting', 'the retried inference to finish');
      // BullMQ still keeps the failed job under the first id; the retry ran under its own.
      expect(await (await queues.inference.queue.getJob(firstJobId))!.getState()).toBe('failed');
      expect(await (await queues.inference.queue.getJob(`${firstJobId}-a1`))!.getState()).toBe('completed');
      const rerun = await db.inferenceRun.findFirstOrThrow({ where: { studyId: study.id } });
      expect([rerun.id, rerun.state, rerun.attempts]).toEqual([run.id, 'succeeded', 2]);
    } finally {
      await worker.close();
      ctx.connection.disconnect();
    }

    // Report, then its only delivery goes dead: delivery_failed; the retry replays it.
    await runQueued('report');
    expect((await studyOf(uid)).state).toBe('delivering');
    const dest = await db.destination.findUniqueOrThrow({ where: { name: 'pacs-a' } });
    const [claimed] = await claimDueDeliveries(db, { destinationId: dest.id, limit: 10, owner: 'test-sender', leaseMs: 60_000, actor: 'test' });
    expect(claimed).toBeDefined();
    await recordDeliveryOutcome(db, { deliveryId: claimed!.id, owner: 'test-sender', actor: 'test', durationMs: 5, outcome: 'dead', error: 'association rejected permanently', status: null });
    expect((await studyOf(uid)).state).toBe('delivery_failed');

    const r = await retryStudy(db, uid, 'carol');
    expect(r).toMatchObject({ from: 'delivery_failed', stage: 'delivery', to: 'delivering', replayed: [{ id: claimed!.id, destination: 'pacs-a' }] });
    const delivery = await db.delivery.findUniqueOrThrow({ where: { id: claimed!.id } });
    expect([delivery.state, delivery.attempts, delivery.lastError]).toEqual(['pending', 0, null]);
    const audit = await listStudyAudit(db, uid);
    expect(audit.find((a) => a.action === 'study.retried' && a.actor === 'carol')?.details).toMatchObject({ from: 'delivery_failed', to: 'delivering', stage: 'delivery', operator: 'carol' });
    expect(audit.some((a) => a.action === 'delivery.replayed' && a.actor === 'carol')).toBe(true);

    const view = (await studyDetail(db, uid))!;
    expect(view.timeline.map((t) => t.state)).toEqual(['receiving', 'settled', 'routed', 'inferring', 'failed', 'routed', 'inferring', 'reporting', 'delivering', 'delivery_failed', 'delivering']);
    expect(view.inferenceRuns).toMatchObject([{ state: 'succeeded', attempts: 2, model: { name: model.card.name }, error: null }]);
    expect(view.inferenceRuns[0]!.score).toBeTypeOf('number');
    expect(view.reports).toMatchObject([{ version: 1, srSopInstanceUid: expect.stringMatching(/^[0-9.]+$/) }]);
    expect(view.deliveries).toMatchObject([{ id: claimed!.id, destination: 'pacs-a', state: 'pending', attempts: 0, reportVersion: 1 }]);
    expect(view.deliveries[0]!.nextAttemptAt).not.toBeNull();
  });

  it('report: a study whose report job gave up is back in reporting with the report intent re-armed, and the retried job writes the report', async () => {
    await upsertDestination(db, { name: 'pacs-a', aeTitle: 'PACSA', host: '127.0.0.1', port: 1 });
    const { uid } = await ingestStudy(504);
    await settleDueStudies(deps, 15_000);
    await runQueued('route');
    const study = await studyOf(uid);
    for (const job of await queues.inference.queue.getJobs(['waiting', 'prioritized'])) {
      await runInferenceJob(job.data as never, { ...deps, model });
      await job.remove();
    }
    expect((await studyOf(uid)).state).toBe('reporting');
    // The report job gave up (e.g. the SR store was full for every attempt) and was removed from the queue.
    for (const job of await queues.report.queue.getJobs(['waiting', 'prioritized'])) await job.remove();
    expect(await failStudy(db, { studyId: study.id, stage: 'report', reason: 'report job gave up after 5 attempt(s): ENOSPC', lastError: 'ENOSPC', actor: 'test' })).toBe(true);

    const r = await retryStudy(db, uid, 'frank');
    expect(r).toMatchObject({ from: 'failed', stage: 'report', to: 'reporting', intent: { jobId: `report-${study.id}-0-a1` } });
    await dispatchPendingIntents(deps);
    await runQueued('report');
    const after = await db.study.findUniqueOrThrow({ where: { id: study.id }, include: { reports: true } });
    expect([after.state, after.reports.length]).toEqual(['delivering', 1]);
  });

  it('refuses a study that is not failed, and an unknown one', async () => {
    const { uid } = await ingestStudy(503);
    await expect(retryStudy(db, uid, 'dave')).rejects.toThrow(new RetryRefusedError(uid, 'it is receiving, not failed or delivery_failed'));
    await expect(retryStudy(db, '1.2.3.999', 'dave')).rejects.toBeInstanceOf(StudyNotFoundError);
    expect((await listStudyAudit(db, uid)).some((a) => a.action === 'study.retried')).toBe(false);
  });
});
