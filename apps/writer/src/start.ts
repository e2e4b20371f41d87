import os from 'node:os';
import { createLogger, type Logger } from '@ldh/config';
import { createDb, upsertDestination, type Db } from '@ldh/db';
import { closePipelineQueues, createPipelineQueues, failStudiesOnFinalFailure, runDeliveryJob, runReportJob } from '@ldh/pipeline';
import { createContractWorker, createRedis, deliveryJob, reportJob, type Worker } from '@ldh/queue';
import { createInstanceStore } from '@ldh/storage';
import type { WriterEnv } from './env.js';

export const SOFTWARE_VERSION = '0.1.0';

export interface RunningWriter {
  stop(): Promise<void>;
}

/** Start the writer role: report (SR + KOS + outbox) and delivery (C-STORE with backoff) queues. */
export async function startWriter(env: WriterEnv, opts: { logger?: Logger; db?: Db } = {}): Promise<RunningWriter> {
  const logger = opts.logger ?? createLogger('ldh-writer', { level: env.LOG_LEVEL });
  const actor = `writer@${os.hostname()}:${process.pid}`;
  const db = opts.db ?? createDb(env.DATABASE_URL);
  for (const d of env.LDH_DESTINATIONS ?? []) await upsertDestination(db, d);
  const store = await createInstanceStore({ rootDir: env.LDH_STORAGE_DIR, minFreeBytes: 0 });
  const producer = createRedis(env.REDIS_URL);
  const queues = createPipelineQueues({ connection: producer, prefix: env.LDH_QUEUE_PREFIX });
  const deps = { db, store, queues, logger, actor };
  const ctx = { connection: createRedis(env.REDIS_URL, { forWorker: true }), prefix: env.LDH_QUEUE_PREFIX };
  const workers: Worker[] = [
    createContractWorker(reportJob, ctx, (p) => runReportJob(p, { ...deps, identity: { manufacturer: env.LDH_MANUFACTURER, softwareVersion: SOFTWARE_VERSION } }), { concurrency: 2 }),
    createContractWorker(deliveryJob, ctx, (p, job) => runDeliveryJob(p, { ...deps, callingAeTitle: env.LDH_AE_TITLE, timeoutMs: env.LDH_DELIVERY_TIMEOUT_MS }, job), { concurrency: 4 }),
  ];
  for (const w of workers) {
    // The last failure of a job fails its study with the stage and the reason (invariant 8).
    failStudiesOnFinalFailure(w, deps);
    w.on('error', (err) => logger.error({ queue: w.name, err: err.message }, 'worker error'));
  }
  logger.info({ destinations: (env.LDH_DESTINATIONS ?? []).map((d) => d.name) }, 'writer started');
  return {
    async stop() {
      await Promise.all(workers.map((w) => w.close()));
      await closePipelineQueues(queues);
      ctx.connection.disconnect();
      producer.disconnect();
      if (!opts.db) await db.$disconnect();
      logger.info('writer stopped');
    },
  };
}
