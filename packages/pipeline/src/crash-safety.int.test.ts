/**
 * Crash-safe inference and terminal states (issue 12): a run abandoned by a kill -9 is re-run,
 * never taken for done; a live lease is respected; a job that gives up fails its study with the
 * stage, the reason and the last error — through a real BullMQ worker's 'failed' event, or, if
 * the process died first, through the reconciler. Real Postgres and Redis, the placeholder model.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listStudyAudit, recordReceivedInstance, type Db } from '@ldh/db';
import { identifyStoredInstance } from '@ldh/dicom';
import { type LoadedModel } from '@ldh/model';
import { generateStudy } from '@ldh/phantom';
import { createContractWorker, createRedis, studyRouteJob, UnrecoverableError } from '@ldh/queue';
import { type InstanceStore } from '@ldh/storage';
import {
  failStudiesOnFinalFailure,
  reconcileStudies,
  RunLeasedError,
  runInferenceJob,
  runReportJob,
  runRouteJob,
  settleDueStudies,
  storeBytes,
  type PipelineDeps,
  type PipelineQueues,
} from '@ldh/pipeline';
import { openPipelineHarness, type PipelineHarness } from './testing.js';

const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `ldh-crash-test-${process.pid}-${Date.now()}`;

let db: Db;
let store: InstanceStore;
let queues: PipelineQueues;
let model: LoadedModel;
let deps: PipelineDeps;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-crash-'));

async function ingestStudy(seed: number): Promise<string> {
  const study = generateStudy({ seed, matrix: 64, levels: { 'L4-L5': 'extrusion' } });
  for (const inst of study.instances) {
    const { storageKey, sha256 } = await storeBytes(store, inst.bytes);
    const id = await identifyStoredInstance(store.pathOf(storageKey));
    await recordReceivedInstance(db, { ...id, sha256, sizeBytes: inst.bytes.byteLength, storageKey, callingAeTitle: 'TEST', receivedAt: new Date(Date.now() - 60_000) });
  }
  return study.studyInstanceUid;
}

async function runQueued(stage: 'route' | 'inference' | 'report'): Promise<number> {
  let ran = 0;
  for (const job of await queues[stage].queue.getJobs(['waiting', 'prioritized'])) {
    if (stage === 'route') await runRouteJob(job.data as never, deps);
    else if (stage === 'inference') await runInferenceJob(job.data as never, { ...deps, model });
    else await runReportJob(job.data as never, { ...deps, identity: { manufacturer: 'test', softwareVersion: '0' } });
    await job.remove();
    ran++;
  }
  return ran;
}

let harness: PipelineHarness;
beforeAll(async () => {
  harness = await openPipelineHarness({ rootDir: tmp, prefix });
  ({ db, store, queues, model, deps } = harness);
});

afterAll(() => harness?.close());

describe('crash-safe inference', () => {
  it('kill -9 during inferring: the abandoned running run is re-run on retry, and the study never reaches done without a report', async () => {
    const uid = await ingestStudy(401);
    await settleDueStudies(deps, 15_000);
    await runQueued('route');
    const [job] = await queues.inference.queue.getJobs(['waiting', 'prioritized']);
    const payload = job!.data as { studyId: string; studyInstanceUid: string; revision: number };
    // The worker claimed the run and moved the study to inferring, then died (kill -9): the run
    // stays `running`, its lease (60 s) long expired by the time the job is retried.
    const first = await runInferenceJob(payload, { ...deps, model });
    expect(first.outcome).toBe('succeeded');
    const runId = (first as { runId: string }).runId;
    await db.jobIntent.deleteMany({ where: { studyId: payload.studyId, stage: 'report' } });
    await db.inferenceRun.update({
      where: { id: runId },
      data: { state: 'running', studyProbability: null, decision: null, threshold: null, perImage: undefined, finishedAt: null, leaseExpiresAt: new Date(Date.now() - 1_000) },
    });
    await db.study.update({ where: { id: payload.studyId }, data: { state: 'inferring' } });

    // The retried job.
    const retried = await runInferenceJob(payload, { ...deps, model });
    expect(retried.outcome).toBe('succeeded');
    let study = await db.study.findUniqueOrThrow({ where: { id: payload.studyId }, include: { reports: true, inferenceRuns: true } });
    expect(study.state).toBe('reporting');
    expect(study.inferenceRuns).toHaveLength(1);
    expect(study.inferenceRuns[0]!.state).toBe('succeeded');
    expect(study.inferenceRuns[0]!.attempts).toBe(2);
    expect((await listStudyAudit(db, uid)).map((a) => a.action)).toContain('inference.taken-over');
    await runQueued('report');
    study = await db.study.findUniqueOrThrow({ where: { id: payload.studyId }, include: { reports: true, inferenceRuns: true } });
    expect(study.state).toBe('done');
    expect(study.reports).toHaveLength(1);
  });

  it('a run with a live lease is left to its owner: the job waits instead of running it twice or closing the study', async () => {
    await ingestStudy(402);
    await settleDueStudies(deps, 15_000);
    await runQueued('route');
    const [job] = await queues.inference.queue.getJobs(['waiting', 'prioritized']);
    const payload = job!.data as { studyId: string; studyInstanceUid: string; revision: number };
    const first = (await runInferenceJob(payload, { ...deps, model })) as { runId: string };
    await db.inferenceRun.update({ where: { id: first.runId }, data: { state: 'running', owner: 'worker@elsewhere', leaseExpiresAt: new Date(Date.now() + 60_000) } });
    await db.study.update({ where: { id: payload.studyId }, data: { state: 'inferring' } });
    await expect(runInferenceJob(payload, { ...deps, model })).rejects.toBeInstanceOf(RunLeasedError);
    const study = await db.study.findUniqueOrThrow({ where: { id: payload.studyId } });
    expect(study.state).toBe('inferring');
    for (const j of await queues.report.queue.getJobs(['waiting', 'prioritized'])) await j.remove();
  });

  it('a succeeded run is reused after a crash before the study moved on: no second inference, the study goes on to reporting and ends done with its report', async () => {
    const uid = await ingestStudy(403);
    await settleDueStudies(deps, 15_000);
    await runQueued('route');
    const [job] = await queues.inference.queue.getJobs(['waiting', 'prioritized']);
    const payload = job!.data as { studyId: string; studyInstanceUid: string; revision: number };
    await runInferenceJob(payload, { ...deps, model });
    // Crash after the run succeeded, before the study moved on (no report yet): the retry reuses the run.
    await db.study.update({ where: { id: payload.studyId }, data: { state: 'inferring' } });
    const again = await runInferenceJob(payload, { ...deps, model });
    expect(again).toMatchObject({ outcome: 'unchanged', next: 'reporting' });
    expect((await db.study.findUniqueOrThrow({ where: { id: payload.studyId } })).state).toBe('reporting');
    expect(await db.inferenceRun.count({ where: { studyId: payload.studyId } })).toBe(1);
    await runQueued('report');
    const done = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: uid }, include: { reports: true } });
    expect([done.state, done.reports.length]).toEqual(['done', 1]);
  });
});

describe('terminal states', () => {
  it('a route job that gives up fails its study with stage, reason, last error and an audit event (real BullMQ worker)', async () => {
    const uid = await ingestStudy(404);
    await settleDueStudies(deps, 15_000);
    const ctx = { connection: createRedis(redisUrl, { forWorker: true }), prefix };
    const worker = createContractWorker(studyRouteJob, ctx, () => Promise.reject(new UnrecoverableError('header store unreadable')));
    failStudiesOnFinalFailure(worker, deps);
    try {
      let state = '';
      for (let i = 0; i < 100 && state !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = (await db.study.findUniqueOrThrow({ where: { studyInstanceUid: uid } })).state;
      }
      const study = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: uid } });
      expect([study.state, study.failedStage, study.lastError]).toEqual(['failed', 'route', 'header store unreadable']);
      expect(study.stateReason).toBe('route: header store unreadable');
      const event = (await listStudyAudit(db, uid)).find((a) => a.action === 'study.failed');
      expect(event?.details).toMatchObject({ from: 'settled', stage: 'route', reason: 'route: header store unreadable' });
    } finally {
      await worker.close();
      ctx.connection.disconnect();
    }
  });

  it('a failed job whose worker died before recording it: the reconciler fails the study; a lost one is re-armed', async () => {
    const uid = await ingestStudy(405);
    await settleDueStudies(deps, 15_000);
    const study = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: uid }, include: { jobIntents: true } });
    const job = (await queues.route.queue.getJob(study.jobIntents[0]!.jobId!))!;
    // Move the job to failed for good, with no 'failed' listener (the worker died).
    const token = 'test-token';
    const taken = await queues.route.queue.getJobs(['waiting']);
    expect(taken.map((j) => j.id)).toContain(job.id);
    const { Worker } = await import('bullmq');
    const w = new Worker(studyRouteJob.queue, null, { connection: createRedis(redisUrl, { forWorker: true }), prefix });
    const active = await w.getNextJob(token);
    expect(active?.id).toBe(job.id);
    await active!.moveToFailed(new UnrecoverableError('disk on fire'), token, false);
    await w.close();
    expect(await job.getState()).toBe('failed');
    const found = await reconcileStudies(deps, { fix: true, minAgeMs: 0 });
    expect(found.filter((f) => f.studyInstanceUid === uid).map((f) => [f.problem, f.action])).toEqual([['job-failed', 'study-failed']]);
    const after = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: uid } });
    expect([after.state, after.failedStage]).toEqual(['failed', 'route']);
    expect(after.stateReason).toContain('disk on fire');
  });
});
