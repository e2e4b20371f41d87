/**
 * Test helpers shared by the pipeline's integration tests: ingest bytes as the SCP would, and run
 * what the queues hold in pipeline order as the workers would (no worker processes).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@ldh/config';
import { createDb, createScratchDatabase, recordReceivedInstance, type Db } from '@ldh/db';
import { identifyStoredInstance } from '@ldh/dicom';
import { loadModel, type LoadedModel } from '@ldh/model';
import { createRedis } from '@ldh/queue';
import { createInstanceStore, type InstanceStore } from '@ldh/storage';
import type { PipelineDeps, PipelineQueues } from './deps.js';
import { closePipelineQueues, createPipelineQueues } from './queues.js';

/** The untrained placeholder model shipped in models/ (fast; every output says it is a placeholder). */
export const PLACEHOLDER_MODEL_CARD = path.join(import.meta.dirname, '../../../models/placeholder-v0.json');
import { runInferenceJob } from './inference-job.js';
import { runReportJob, storeBytes } from './report-job.js';
import { runRouteJob } from './route-job.js';

/** Stores bytes as the SCP does (content-addressed file, identity, Instance row); received a minute ago unless told. */
export async function ingestBytes(deps: Pick<PipelineDeps, 'db' | 'store'>, bytes: Uint8Array, receivedAt = new Date(Date.now() - 60_000)) {
  const { storageKey, sha256 } = await storeBytes(deps.store, bytes);
  const id = await identifyStoredInstance(deps.store.pathOf(storageKey));
  return recordReceivedInstance(deps.db, { ...id, sha256, sizeBytes: bytes.byteLength, storageKey, callingAeTitle: 'TEST', receivedAt });
}

const PENDING = ['waiting', 'prioritized'] as const;

/**
 * One round of whatever the route, inference and report queues hold, in pipeline order; returns
 * how many jobs ran. A report job's error goes to `onReportError` when given, else it throws.
 */
export async function drainOnce(deps: PipelineDeps, model: LoadedModel, opts: { onReportError?: (err: unknown) => void } = {}): Promise<number> {
  let ran = 0;
  for (const job of await deps.queues.route.queue.getJobs([...PENDING])) {
    await runRouteJob(job.data, deps);
    await job.remove();
    ran++;
  }
  for (const job of await deps.queues.inference.queue.getJobs([...PENDING])) {
    await runInferenceJob(job.data, { ...deps, model });
    await job.remove();
    ran++;
  }
  for (const job of await deps.queues.report.queue.getJobs([...PENDING])) {
    const run = runReportJob(job.data, { ...deps, identity: { manufacturer: 'test', softwareVersion: '0' } });
    await (opts.onReportError ? run.catch(opts.onReportError) : run);
    await job.remove();
    ran++;
  }
  return ran;
}

/** {@link drainOnce} until the queues are empty. */
export async function drainAll(deps: PipelineDeps, model: LoadedModel, opts: { onReportError?: (err: unknown) => void } = {}): Promise<void> {
  while ((await drainOnce(deps, model, opts)) > 0);
}

/** What an integration test of the jobs needs: a scratch database, a store, private queues, the placeholder model. */
export interface PipelineHarness {
  db: Db;
  store: InstanceStore;
  queues: PipelineQueues;
  redis: ReturnType<typeof createRedis>;
  model: LoadedModel;
  deps: PipelineDeps;
  /** Drops the database, obliterates the queues, removes `rootDir`. */
  close(): Promise<void>;
}

/** Opens a {@link PipelineHarness} on the test Postgres and Redis (LDH_TEST_DATABASE_URL / LDH_TEST_REDIS_URL). */
export async function openPipelineHarness(opts: { rootDir: string; prefix?: string; scratchPrefix?: string }): Promise<PipelineHarness> {
  const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const scratch = await createScratchDatabase(adminUrl, opts.scratchPrefix);
  const db = createDb(scratch.url);
  const store = await createInstanceStore({ rootDir: opts.rootDir, minFreeBytes: 0 });
  const redis = createRedis(redisUrl);
  const queues = createPipelineQueues({ connection: redis, prefix: opts.prefix ?? `ldh-test-${process.pid}-${Date.now()}` });
  const model = await loadModel(PLACEHOLDER_MODEL_CARD);
  const deps: PipelineDeps = { db, store, queues, logger: createLogger('test', { level: 'silent' }), actor: 'test' };
  return {
    db,
    store,
    queues,
    redis,
    model,
    deps,
    async close() {
      await model.dispose();
      for (const q of Object.values(queues)) await q.queue.obliterate({ force: true });
      await closePipelineQueues(queues);
      redis.disconnect();
      await db.$disconnect();
      await scratch.drop();
      rmSync(opts.rootDir, { recursive: true, force: true });
    },
  };
}
