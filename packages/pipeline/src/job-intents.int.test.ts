/**
 * Postgres drives the jobs (issue 12): every state change commits with the intent of its next
 * job, a dispatcher moves intents to BullMQ, and the reconciler re-creates jobs that Redis lost.
 * Real Postgres, real Redis (a private key prefix; "flushing" deletes every key under it), the
 * shipped placeholder model, phantom studies.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listStudyAudit, type Db } from '@ldh/db';
import { type LoadedModel } from '@ldh/model';
import { generateStudy } from '@ldh/phantom';
import {
  closePipelineQueues,
  createPipelineQueues,
  dispatchPendingIntents,
  reconcileStudies,
  runRouteJob,
  settleDueStudies,
  type PipelineDeps,
  type PipelineQueues,
} from '@ldh/pipeline';
import { drainAll, drainOnce as drainOnceShared, ingestBytes, openPipelineHarness, type PipelineHarness } from './testing.js';

const prefix = `ldh-intents-test-${process.pid}-${Date.now()}`;

let db: Db;
let queues: PipelineQueues;
let redis: Redis;
let model: LoadedModel;
let deps: PipelineDeps;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-intents-'));

async function ingestStudy(seed: number): Promise<string> {
  const study = generateStudy({ seed, matrix: 64, levels: { 'L4-L5': 'extrusion' } });
  for (const inst of study.instances) await ingestBytes(deps, inst.bytes);
  return study.studyInstanceUid;
}

const drainOnce = () => drainOnceShared(deps, model);
const drain = () => drainAll(deps, model);

/** FLUSHDB for this test's queues: every key under the private prefix is deleted. */
async function flushPrefix(): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

async function stateOf(uid: string) {
  return db.study.findUniqueOrThrow({ where: { studyInstanceUid: uid }, include: { reports: true, jobIntents: true } });
}

let harness: PipelineHarness;
beforeAll(async () => {
  harness = await openPipelineHarness({ rootDir: tmp, prefix });
  ({ db, queues, redis, model, deps } = harness);
});

afterAll(() => harness?.close());

describe('job intents', () => {
  it('commit with each state change and move the study through the pipeline', async () => {
    const uid = await ingestStudy(301);
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    let s = await stateOf(uid);
    expect(s.state).toBe('settled');
    expect(s.jobIntents.map((i) => [i.stage, i.state])).toEqual([['route', 'dispatched']]);
    expect(await queues.route.queue.getJob(s.jobIntents[0]!.jobId!)).toBeDefined();
    await drain();
    s = await stateOf(uid);
    expect(s.state).toBe('done'); // no destination configured: done with its report
    expect(s.reports).toHaveLength(1);
    expect(s.jobIntents.map((i) => i.stage).sort()).toEqual(['inference', 'report', 'route']);
    expect(s.jobIntents.every((i) => i.state === 'dispatched')).toBe(true);
  });

  it('a flushed Redis loses nothing: the reconciler re-creates the jobs and the study reaches done', async () => {
    const uid = await ingestStudy(302);
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    // Route runs, then Redis is flushed with the inference job waiting in it.
    for (const job of await queues.route.queue.getJobs(['waiting', 'prioritized'])) {
      await runRouteJob(job.data, deps);
      await job.remove();
    }
    expect((await stateOf(uid)).state).toBe('routed');
    expect(await queues.inference.queue.count()).toBe(1);
    expect(await flushPrefix()).toBeGreaterThan(0);
    expect(await queues.inference.queue.count()).toBe(0);
    expect(await drainOnce()).toBe(0); // nothing left in Redis: without a reconciler the study is stuck

    const found = await reconcileStudies(deps, { fix: true, minAgeMs: 0 });
    expect(found.map((f) => [f.studyInstanceUid, f.stage, f.problem, f.action])).toEqual([[uid, 'inference', 'job-lost', 'intent-rearmed']]);
    expect(await dispatchPendingIntents(deps)).toEqual({ dispatched: 1, pending: 0 });
    const intent = (await stateOf(uid)).jobIntents.find((i) => i.stage === 'inference')!;
    expect(intent.jobId).toBe(`${intent.id}-a1`); // a job id BullMQ has never seen
    await drain();
    const s = await stateOf(uid);
    expect(s.state).toBe('done');
    expect(s.reports).toHaveLength(1);
    // A second pass finds nothing to repair.
    expect(await reconcileStudies(deps, { fix: true, minAgeMs: 0 })).toEqual([]);
  });

  it('a study whose intent row is gone too (e.g. settled before this version) gets one from its state', async () => {
    const uid = await ingestStudy(303);
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    await flushPrefix();
    const study = await stateOf(uid);
    await db.jobIntent.deleteMany({ where: { studyId: study.id } });
    const found = await reconcileStudies(deps, { fix: false, minAgeMs: 0 });
    expect(found.map((f) => [f.stage, f.problem, f.action])).toEqual([['route', 'no-intent', undefined]]);
    expect(await db.jobIntent.count({ where: { studyId: study.id } })).toBe(0); // a dry run changes nothing
    await reconcileStudies(deps, { fix: true, minAgeMs: 0 });
    await dispatchPendingIntents(deps);
    await drain();
    expect((await stateOf(uid)).state).toBe('done');
  });

  it('Redis unreachable during the settler tick: the intent stays pending and is dispatched when Redis is back', async () => {
    const uid = await ingestStudy(304);
    // A producer whose Redis does not answer (nothing listens on port 1).
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    dead.on('error', () => undefined);
    const deadQueues = createPipelineQueues({ connection: dead, prefix });
    deadQueues.route.queue.on('error', () => undefined);
    try {
      expect(await settleDueStudies({ ...deps, queues: deadQueues }, 15_000)).toBe(1);
    } finally {
      await closePipelineQueues(deadQueues).catch(() => undefined);
      dead.disconnect();
    }
    let s = await stateOf(uid);
    expect(s.state).toBe('settled');
    expect(s.jobIntents).toHaveLength(1);
    expect(s.jobIntents[0]!.state).toBe('pending');
    expect(s.jobIntents[0]!.lastError).toBeTruthy();
    // Redis is back: the periodic dispatcher sends it, and the study completes.
    expect(await dispatchPendingIntents(deps)).toEqual({ dispatched: 1, pending: 0 });
    await drain();
    s = await stateOf(uid);
    expect(s.state).toBe('done');
    const actions = (await listStudyAudit(db, uid)).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['study.settled', 'study.routed', 'study.reporting', 'study.done']));
  });
});
