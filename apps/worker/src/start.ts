import os from 'node:os';
import { createLogger, rateLimitedLog, type Logger } from '@ldh/config';
import { probeDatabase, countStudiesByState, createDb, type Db } from '@ldh/db';
import { loadModel, type LoadedModel } from '@ldh/model';
import { closePipelineQueues, createPipelineQueues, failStudiesOnFinalFailure, runInferenceJob, runRouteJob } from '@ldh/pipeline';
import { startRoleObservability, type Observability, type RoleObservability } from '@ldh/observability';
import { closeWithin, closeWorkers, createContractWorker, createRedis, inferenceJob, studyRouteJob, type Worker } from '@ldh/queue';
import { createInstanceStore } from '@ldh/storage';
import { defaultModelCard } from './default-model.js';
import type { WorkerEnv } from './env.js';

export interface RunningWorker {
  model: LoadedModel;
  stop(): Promise<void>;
}

export interface StartWorkerOptions {
  logger?: Logger;
  db?: Db;
  /** The process's shared observability (ldh serve); without it the role serves /metrics, /healthz, /readyz itself on LDH_HTTP_HOST:LDH_HTTP_PORT. */
  observability?: Observability;
}

/**
 * Start the worker role: load and verify the model once (a bad card fails start-up, not the
 * first study), then consume the route and inference queues. stop() lets the current jobs
 * finish (BullMQ graceful close) before closing Redis and Prisma.
 */
export async function startWorker(env: WorkerEnv, opts: StartWorkerOptions = {}): Promise<RunningWorker> {
  const o = await startRoleObservability('worker', opts.observability, { host: env.LDH_HTTP_HOST, port: env.LDH_HTTP_PORT });
  try {
    return await startWorkerRole(env, opts, o);
  } catch (err) {
    await o.close();
    throw err;
  }
}

async function startWorkerRole(env: WorkerEnv, opts: StartWorkerOptions, o: RoleObservability): Promise<RunningWorker> {
  const logger = opts.logger ?? createLogger('ldh-worker', { level: env.LOG_LEVEL });
  const actor = `worker@${os.hostname()}:${process.pid}`;
  const db = opts.db ?? createDb(env.DATABASE_URL);
  const store = await createInstanceStore({ rootDir: env.LDH_STORAGE_DIR, minFreeBytes: 0 });
  const cardPath = env.LDH_MODEL_CARD ?? defaultModelCard();
  const model = await loadModel(cardPath, { provider: env.LDH_EXECUTION_PROVIDER, ...(env.LDH_INFERENCE_THREADS > 0 ? { intraOpThreads: env.LDH_INFERENCE_THREADS } : {}), logger });
  logger.info({ model: model.card.name, version: model.card.version, sha256: model.card.sha256, placeholder: model.placeholder, provider: model.provider }, 'model loaded');
  if (model.placeholder) logger.warn('running the PLACEHOLDER model: scores are meaningless (every SR says so)');

  // Redis trouble is one rate-limited line per 30 s, not one per reconnect attempt per connection.
  const redisErrors = rateLimitedLog(logger);
  const onError = (err: Error) => redisErrors('redis', { err: err.message }, 'redis connection error (reconnecting with backoff)');
  const producer = createRedis(env.REDIS_URL, { onError });
  const queues = createPipelineQueues({ connection: producer, prefix: env.LDH_QUEUE_PREFIX });
  const deps = { db, store, queues, logger, actor, priorityRules: env.LDH_PRIORITY_RULES ?? [] };
  const ctx = { connection: createRedis(env.REDIS_URL, { forWorker: true, onError }), prefix: env.LDH_QUEUE_PREFIX };
  const { metrics } = o.obs;
  const onInference = (r: { provider: string; seconds: number; images: number }) => {
    metrics.inferenceDuration.observe({ provider: r.provider }, r.seconds);
    metrics.inferenceImages.inc({ provider: r.provider }, r.images);
  };
  const workers: Worker[] = [
    createContractWorker(studyRouteJob, ctx, o.obs.timeJob(studyRouteJob.queue, (p) => runRouteJob(p, deps)), { concurrency: 4 }),
    createContractWorker(
      inferenceJob,
      ctx,
      o.obs.timeJob(inferenceJob.queue, (p, job, token) => runInferenceJob(p, { ...deps, model, leaseMs: env.LDH_INFERENCE_LEASE_MS, onInference }, { job, token })),
      { concurrency: env.LDH_INFERENCE_CONCURRENCY },
    ),
  ];
  for (const w of workers) {
    // The last failure of a job fails its study with the stage and the reason (invariant 8).
    failStudiesOnFinalFailure(w, deps);
    w.on('error', (err) => redisErrors(`worker:${w.name}`, { queue: w.name, err: err.message }, 'worker error'));
  }
  const modelLabels = { model: model.card.name, version: model.card.version, provider: model.provider, placeholder: String(model.placeholder) };
  metrics.modelInfo.set(modelLabels, 1);
  o.track(() => metrics.modelInfo.remove(modelLabels));
  o.track(o.obs.addReadinessCheck('worker.postgres', () => probeDatabase(db)));
  o.track(o.obs.addReadinessCheck('worker.redis', () => producer.ping()));
  o.track(
    o.obs.addReadinessCheck('worker.model', async () => {
      if (model.session.liveSessions === 0) throw new Error(`model ${model.card.name}@${model.card.version} has no live inference session`);
    }),
  );
  o.track(o.obs.addQueues(Object.values(queues).map((q) => q.queue)));
  o.track(o.obs.addStudiesSource(() => countStudiesByState(db)));
  o.track(o.obs.addStorageDir(env.LDH_STORAGE_DIR));
  o.started();
  return {
    model,
    async stop() {
      // Graceful first (running jobs finish); forced when Redis is gone and close() would never resolve.
      const closed = await closeWorkers(workers, 5_000);
      if (closed === 'forced') logger.warn('workers force-closed (Redis unreachable or jobs still running); their jobs will be retried');
      await closeWithin(() => closePipelineQueues(queues), 2_000);
      ctx.connection.disconnect();
      producer.disconnect();
      await model.dispose();
      if (!opts.db) await db.$disconnect();
      await o.close();
      logger.info('worker stopped');
    },
  };
}
