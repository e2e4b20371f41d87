import os from 'node:os';
import { createLogger, rateLimitedLog, type Logger } from '@ldh/config';
import { createDb, type Db } from '@ldh/db';
import { loadModel, type LoadedModel } from '@ldh/model';
import { closePipelineQueues, createPipelineQueues, failStudiesOnFinalFailure, runInferenceJob, runRouteJob } from '@ldh/pipeline';
import { closeWithin, closeWorkers, createContractWorker, createRedis, inferenceJob, studyRouteJob, type Worker } from '@ldh/queue';
import { createInstanceStore } from '@ldh/storage';
import { defaultModelCard } from './default-model.js';
import type { WorkerEnv } from './env.js';

export interface RunningWorker {
  model: LoadedModel;
  stop(): Promise<void>;
}

/**
 * Start the worker role: load and verify the model once (a bad card fails start-up, not the
 * first study), then consume the route and inference queues. stop() lets the current jobs
 * finish (BullMQ graceful close) before closing Redis and Prisma.
 */
export async function startWorker(env: WorkerEnv, opts: { logger?: Logger; db?: Db } = {}): Promise<RunningWorker> {
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
  const workers: Worker[] = [
    createContractWorker(studyRouteJob, ctx, (p) => runRouteJob(p, deps), { concurrency: 4 }),
    createContractWorker(inferenceJob, ctx, (p, job, token) => runInferenceJob(p, { ...deps, model, leaseMs: env.LDH_INFERENCE_LEASE_MS }, { job, token }), { concurrency: env.LDH_INFERENCE_CONCURRENCY }),
  ];
  for (const w of workers) {
    // The last failure of a job fails its study with the stage and the reason (invariant 8).
    failStudiesOnFinalFailure(w, deps);
    w.on('error', (err) => redisErrors(`worker:${w.name}`, { queue: w.name, err: err.message }, 'worker error'));
  }
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
      logger.info('worker stopped');
    },
  };
}
